from django.urls import path

from repairs import dropoff_views, loan_views, views

app_name = "tickets"

urlpatterns = [
    path("", views.ticket_list, name="list"),
    path("report/", views.report, name="report"),
    path("log-call/", views.log_call, name="log_call"),
    path("likely-faulty/", views.likely_faulty, name="likely_faulty"),
    path("likely-faulty/<str:serial_number>/ticket/", views.open_from_monitoring, name="open_from_monitoring"),
    path("loaners/", loan_views.pool_page, name="loaner_pool"),
    path("loaners/<str:serial_number>/", loan_views.loaner_history, name="loaner_history"),
    path("loaners/<str:serial_number>/inspection/", loan_views.inspect, name="loaner_inspect"),
    path("files/<int:pk>/", views.attachment, name="attachment"),
    path("<str:service_order_no>/", views.ticket_detail, name="detail"),
    path("<str:service_order_no>/transition/", views.transition, name="transition"),
    path("<str:service_order_no>/comments/", views.comment, name="comment"),
    path("<str:service_order_no>/attachments/", views.attach, name="attach"),
    path("<str:service_order_no>/repair-form/", views.repair_form, name="repair_form"),
    path("<str:service_order_no>/pickup-code/", views.reissue_code, name="reissue_code"),
    path("<str:service_order_no>/qr.svg", views.ticket_qr, name="qr"),
    path("<str:service_order_no>/loaner/", loan_views.lend, name="loaner_lend"),
    path("<str:service_order_no>/loaner/return/", loan_views.give_back, name="loaner_return"),
    path("<str:service_order_no>/rating/", views.rate, name="rate"),
    path("<str:service_order_no>/drop-off/", dropoff_views.book, name="dropoff_book"),
    path("<str:service_order_no>/drop-off/cancel/", dropoff_views.cancel, name="dropoff_cancel"),
]

# Public tracking (no sign-in), at the portal's root: /track/ (portal/urls.py, namespace "tracking").
public_urlpatterns = [
    path("track/", views.track, name="track"),
]
