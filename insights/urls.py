from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("track/", views.track, name="track"),
    path("qr/<str:service_order_no>.svg", views.ticket_qr, name="ticket_qr"),
    path("search/", views.search, name="search"),
    path("reports/", views.report_index, name="reports"),
    path("reports/export/", views.report_csv, name="report_csv"),
    path("satisfaction/<str:service_order_no>/", views.rate, name="rate"),
]
