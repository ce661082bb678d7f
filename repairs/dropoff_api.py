"""The drop-off API, on the tickets endpoint: GET/POST/DELETE /api/v1/tickets/{no}/dropoff/
(the booking and the branch's free slots; book or move; cancel). Same service as the page."""

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from portal.core.api import ErrorSerializer
from repairs import dropoff


class DropoffSlotSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField()
    seats = serializers.IntegerField()
    free = serializers.IntegerField()


class DropoffBookingSerializer(serializers.Serializer):
    branch = serializers.CharField(source="branch.code")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    status = serializers.CharField()
    missed = serializers.BooleanField(source="is_missed")
    created_at = serializers.DateTimeField()


class DropoffSerializer(serializers.Serializer):
    booking = DropoffBookingSerializer(allow_null=True)
    can_book = serializers.BooleanField()
    slots = DropoffSlotSerializer(many=True, help_text="The branch's slots of the next 14 days, with free seats.")


class DropoffRequestSerializer(serializers.Serializer):
    starts_at = serializers.CharField(
        help_text="A slot's start: ISO 8601 with an offset, or local (Asia/Shanghai) YYYY-MM-DDTHH:MM."
    )

    def validate_starts_at(self, value):
        parsed = dropoff.parse_slot(value)
        if parsed is None:
            raise ValidationError("Enter a date and time, e.g. 2026-12-03T09:30.")
        return parsed


class DropoffActionsMixin:
    """Mixed into repairs.api.TicketViewSet: the ticket is found (or 404) the same way."""

    def _dropoff_answer(self, ticket):
        booking = dropoff.current_booking(ticket)
        if booking is not None:
            booking.ticket = ticket
        can_book = ticket.status == "awaiting_branch" and bool(ticket.branch_id) and dropoff.may_book(
            ticket, self.request.user
        )
        slots = [s for _day, day in dropoff.published_slots(ticket.branch_id) for s in day] if can_book else []
        return DropoffSerializer({"booking": booking, "can_book": can_book, "slots": slots}).data

    @extend_schema(
        methods=["GET"], summary="The ticket's drop-off booking and its branch's free slots",
        responses={200: DropoffSerializer, 404: OpenApiResponse(description="No such ticket visible to the caller")},
    )
    @extend_schema(
        methods=["POST"], summary="Book the drop-off (or move it) to one of the branch's slots",
        request=DropoffRequestSerializer,
        responses={
            200: DropoffSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Not a published slot, or the slot is full"),
            403: OpenApiResponse(ErrorSerializer, description="Not the ticket's merchant, an agent or an admin"),
            404: OpenApiResponse(description="No such ticket visible to the caller"),
            409: OpenApiResponse(ErrorSerializer, description="The ticket is not waiting for its branch visit"),
        },
    )
    @extend_schema(
        methods=["DELETE"], summary="Cancel the drop-off booking",
        responses={
            200: DropoffSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Not the ticket's merchant, an agent or an admin"),
            404: OpenApiResponse(description="No such ticket visible to the caller"),
            409: OpenApiResponse(ErrorSerializer, description="No booking to cancel"),
        },
    )
    @action(detail=True, methods=["get", "post", "delete"], url_path="dropoff")
    def dropoff(self, request, service_order_no=None, **kwargs):
        ticket = self.get_queryset().filter(service_order_no=service_order_no).first()
        if ticket is None:
            raise Http404
        if request.method == "POST":
            data = DropoffRequestSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            dropoff.book_slot(ticket=ticket, starts_at=data.validated_data["starts_at"], actor=request.user,
                              now=timezone.now())
            ticket.refresh_from_db()
        elif request.method == "DELETE":
            dropoff.cancel_booking(ticket=ticket, actor=request.user)
        return Response(self._dropoff_answer(ticket))
