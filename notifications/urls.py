from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("badge/", views.badge, name="badge"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("<int:pk>/read/", views.mark_read, name="read"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("settings/", views.preferences, name="preferences"),
    path("deliveries/", views.delivery_log, name="log"),
    path("deliveries/<int:pk>/", views.delivery_detail, name="log_detail"),
    path("deliveries/<int:pk>/retry/", views.delivery_retry, name="log_retry"),
    path("wechat/", views.wechat_binding, name="wechat"),
    path("wechat/status/", views.wechat_binding_status, name="wechat_status"),
    path("wechat/callback/", views.wechat_callback, name="wechat_callback"),
    path("wechat/unbind/", views.wechat_unbind, name="wechat_unbind"),
]
