from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("search/", views.search, name="search"),
    path("reports/", views.report_index, name="reports"),
    path("reports/export/", views.report_csv, name="report_csv"),
]
