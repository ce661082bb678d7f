"""The "likely faulty" queue over the API: GET /api/v1/monitoring/likely-faulty/ and
POST /api/v1/monitoring/likely-faulty/{serial_number}/ticket/ (agents), the same selector and
service as the page (repairs.monitoring)."""

from django.shortcuts import get_object_or_404
from django.urls import re_path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response

from portal.core.api import ErrorSerializer
from portal.core.workflow import WorkflowError
from repairs import monitoring, selectors
from repairs.api import TicketDetailSerializer


class SuspectSerializer(serializers.Serializer):
    serial_number = serializers.CharField(source="terminal.serial_number")
    model = serializers.CharField(source="terminal.model")
    merchant = serializers.CharField(source="terminal.merchant.name")
    business_hours = serializers.CharField(source="terminal.merchant.business_hours")
    last_online = serializers.DateTimeField(allow_null=True)
    silent_hours = serializers.FloatField(help_text="Business hours since the last online report.")
    silent = serializers.BooleanField()
    error_code = serializers.CharField(help_text="The serious code repeated most in the last day, or empty.")
    error_repeats = serializers.IntegerField()
    repeating = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())


def _check_agent(user):
    if not (user.is_agent or user.is_admin_role):
        raise WorkflowError(monitoring.ONLY_AGENTS, code="forbidden")


class LikelyFaultyView(generics.ListAPIView):
    """GET: the terminals the health reports flag, without an open ticket (agents)."""

    serializer_class = SuspectSerializer

    @extend_schema(summary="Terminals likely faulty from their health reports (agents)",
                   responses={200: SuspectSerializer(many=True), 403: ErrorSerializer})
    def get(self, request, *args, **kwargs):
        _check_agent(request.user)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: the list's rows are terminals
            from terminals.models import Terminal

            return Terminal.objects.none()
        return monitoring.likely_faulty(self.request.user)


class LikelyFaultyTicketView(generics.GenericAPIView):
    """POST: open a ticket (source "monitoring") for the merchant of a terminal of the queue."""

    serializer_class = serializers.Serializer

    @extend_schema(summary="Open a ticket from the likely-faulty queue (agents)", request=None,
                   responses={201: TicketDetailSerializer, 403: ErrorSerializer,
                              400: OpenApiResponse(ErrorSerializer, description="Not in the queue (any more)")})
    def post(self, request, serial_number, **kwargs):
        _check_agent(request.user)
        ticket = monitoring.open_monitoring_ticket(serial_number=serial_number, actor=request.user)
        ticket = get_object_or_404(selectors.ticket_for(request.user, ticket.service_order_no))
        return Response(TicketDetailSerializer(ticket, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


urlpatterns = [
    re_path(r"^monitoring/likely-faulty/$", LikelyFaultyView.as_view(), name="likely-faulty"),
    re_path(r"^monitoring/likely-faulty/(?P<serial_number>[A-Za-z0-9._-]{1,40})/ticket/$",
            LikelyFaultyTicketView.as_view(), name="likely-faulty-ticket"),
]
