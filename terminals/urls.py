from django.urls import path

from terminals import views

app_name = "terminals"

urlpatterns = [
    path("", views.terminal_list, name="list"),
    path("mine/", views.my_terminals, name="mine"),
    path("export.csv", views.terminal_export, name="export"),
    path("import/", views.import_new, name="import"),
    path("import/template.csv", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("<str:serial_number>/", views.terminal_detail, name="detail"),
    path("<str:serial_number>/maintenance/", views.log_maintenance, name="log_maintenance"),
    path("<str:serial_number>/issue/", views.issue, name="issue"),
    path("<str:serial_number>/activate/", views.activate, name="activate"),
    path("<str:serial_number>/restock/", views.restock, name="restock"),
    path("<str:serial_number>/deregister/", views.deregister, name="deregister"),
]
