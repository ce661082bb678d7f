from django.urls import path

from portal.accounts import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("merchants/", views.merchant_list, name="merchants"),
    path("merchants/<int:pk>/", views.merchant_detail, name="merchant"),
    path("merchants/<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("documents/<int:pk>/", views.document_download, name="document"),
    path("branches/", views.branch_list, name="branches"),
]
