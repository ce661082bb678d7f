from django.urls import path

from applications import views

app_name = "applications"

urlpatterns = [
    path("", views.application_list, name="list"),
    path("new/", views.apply, name="apply"),
    path("queue/", views.queue, name="queue"),
    path("documents/<int:pk>/", views.document, name="document"),
    path("documents/<int:pk>/view/", views.document_viewer, name="document_viewer"),
    path("documents/<int:pk>/verdict/", views.document_verdict, name="document_verdict"),
    path("<str:number>/", views.detail, name="detail"),
    path("<str:number>/transition/", views.transition, name="transition"),
    path("<str:number>/documents/", views.document_upload, name="document_upload"),
    path("<str:number>/inspection/", views.inspection, name="inspection"),
    path("<str:number>/deregistration/", views.deregistration, name="deregistration"),
    path("<str:number>/volumes/", views.volume, name="volume"),
    path("<str:number>/deposit/", views.deposit_progress, name="deposit"),
    path("<str:number>/deposit/refund/", views.refund, name="refund"),
]
