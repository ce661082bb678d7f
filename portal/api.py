"""The REST API under /api/v1/: one router that every app's viewsets join."""

from django.urls import include, path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter

from applications import api as applications_api
from applications.api import ApplicationViewSet
from notifications import api as notifications_api
from notifications.api import NotificationViewSet
from portal.accounts import api as accounts_api
from repairs import api as repairs_api
from repairs import monitoring_api
from repairs.api import TicketViewSet
from repairs.loan_api import LoanerViewSet
from terminals import api as terminals_api
from terminals.api import TelemetryIngestView, TerminalViewSet

router = DefaultRouter()
# Apps register here, e.g. router.register("terminals", TerminalViewSet, basename="terminal").
router.register("terminals", TerminalViewSet, basename="terminal")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("loaners", LoanerViewSet, basename="loaner")
router.register("applications", ApplicationViewSet, basename="application")

urlpatterns = [
    path("auth/token/", ObtainAuthToken.as_view(), name="api-token"),
    path("telemetry/", TelemetryIngestView.as_view(), name="api-telemetry"),
    *applications_api.urlpatterns,
    *repairs_api.urlpatterns,
    *monitoring_api.urlpatterns,
    *terminals_api.urlpatterns,
    *notifications_api.urlpatterns,
    *accounts_api.urlpatterns,
    path("", include(router.urls)),
]
