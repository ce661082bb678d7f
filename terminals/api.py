"""REST API of terminals (DESIGN.md, "REST API"): read scoped by visibility; deregistration by staff."""

import django_filters
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from terminals import selectors, services
from terminals.models import Deregistration, Terminal


class TerminalAPIFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Terminal.Status.choices, help_text=_("Terminal status."))
    merchant = django_filters.NumberFilter(field_name="merchant_id", help_text=_("Merchant id."))

    class Meta:
        model = Terminal
        fields = ["status", "merchant"]


class TicketBriefSerializer(serializers.Serializer):
    """A fault ticket as listed on its terminal (full detail under /api/v1/tickets/)."""

    service_order_no = serializers.CharField()
    status = serializers.CharField()
    fault_type = serializers.CharField()
    created_at = serializers.DateTimeField()


class TerminalSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    home_branch = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    merchant_name = serializers.CharField(source="merchant.name", read_only=True, allow_null=True, default=None)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Terminal
        fields = [
            "serial_number", "tag_number", "model", "manufacturer", "channel", "merchant",
            "merchant_name", "home_branch", "tid", "mid", "status", "status_display",
            "activated_on", "retired_on", "updated_at",
        ]
        read_only_fields = fields


class TerminalDetailSerializer(TerminalSerializer):
    tickets = serializers.SerializerMethodField(help_text=_("The terminal's fault tickets, newest first."))

    class Meta(TerminalSerializer.Meta):
        fields = [*TerminalSerializer.Meta.fields, "tickets"]
        read_only_fields = fields

    @extend_schema_field(TicketBriefSerializer(many=True))
    def get_tickets(self, terminal):
        tickets = selectors.DETAIL_SOURCES["tickets"](terminal, self.context["request"].user)
        return TicketBriefSerializer(tickets, many=True).data


class DeregistrationInputSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Deregistration.Method.choices)
    certificate_number = serializers.CharField(max_length=60)
    witness = serializers.CharField(max_length=100)
    date = serializers.DateField(required=False, help_text=_("Defaults to today; never in the future."))

    def validate_date(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError(_("The date cannot be in the future."))
        return value


class DeregistrationSerializer(serializers.ModelSerializer):
    terminal = serializers.CharField(source="terminal.serial_number")
    terminal_status = serializers.CharField(source="terminal.status")
    recorded_by = serializers.CharField(source="recorded_by.username")

    class Meta:
        model = Deregistration
        fields = [
            "id", "terminal", "terminal_status", "method", "certificate_number", "witness", "date",
            "recorded_by", "created_at",
        ]
        read_only_fields = fields


_error = inline_serializer("TerminalError", {"detail": serializers.CharField()})
SERIAL = OpenApiParameter(
    "serial_number", OpenApiTypes.STR, OpenApiParameter.PATH, description="The terminal number (serial).",
    # The URL accepts only these characters (lookup_value_regex): anything else never reaches the API.
    pattern=r"^[A-Za-z0-9._-]+$",
)


@extend_schema_view(
    list=extend_schema(summary="List the terminals you may see", tags=["terminals"]),
    retrieve=extend_schema(
        summary="One terminal with its fault tickets", tags=["terminals"], parameters=[SERIAL]
    ),
)
class TerminalViewSet(viewsets.ReadOnlyModelViewSet):
    """Terminals scoped to the caller: a merchant sees only its own; another's is a 404."""

    lookup_field = "serial_number"
    lookup_value_regex = r"[A-Za-z0-9._-]+"
    filterset_class = TerminalAPIFilter

    def get_queryset(self):
        return selectors.api_terminals(self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return TerminalDetailSerializer
        if self.action == "deregistration":
            return DeregistrationInputSerializer
        return TerminalSerializer

    @extend_schema(
        summary="Record the terminal's deregistration or destruction (staff; cannot be undone)",
        tags=["terminals"],
        parameters=[SERIAL],
        request=DeregistrationInputSerializer,
        responses={
            201: DeregistrationSerializer,
            400: OpenApiResponse(description="Field errors, e.g. {\"witness\": [\"This field is required.\"]}"),
            403: OpenApiResponse(_error, description="Staff who do not manage the inventory."),
            404: OpenApiResponse(_error, description="Unknown terminal, or the caller is a merchant."),
            409: OpenApiResponse(_error, description="Not allowed in the terminal's current status."),
        },
        examples=[
            OpenApiExample(
                "Destroyed",
                value={"method": "destroyed", "certificate_number": "XH-2026-0042", "witness": "刘审核"},
                request_only=True,
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def deregistration(self, request, serial_number=None, **kwargs):
        if not request.user.is_staff_role:
            raise Http404  # a merchant never learns more about the endpoint than "not found"
        terminal = self.get_object()
        if not services.can_manage(request.user):
            raise PermissionDenied(_("Only reviewers and administrators record deregistrations."))
        serializer = DeregistrationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # A refusal (WorkflowError) is answered by the API's exception handler with the one error
        # body: 400 with field errors, 409 when not allowed in the terminal's status.
        record = services.deregister(
            terminal=terminal,
            method=data["method"],
            certificate_number=data["certificate_number"],
            witness=data["witness"],
            date=data.get("date") or timezone.localdate(),
            actor=request.user,
        )
        return Response(DeregistrationSerializer(record).data, status=status.HTTP_201_CREATED)
