"""The tickets API (DESIGN.md): /api/v1/tickets/, /{service_order_no}/, /{service_order_no}/transition/."""

import datetime

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from portal.core.api import (
    ID_PATH,
    ErrorSerializer,
    RowSerializerMixin,
    id_parameter,
    object_id,
    step_serializer,
)
from portal.core.filters import FilterSet
from portal.core.numbering import number_pattern
from portal.core.pagination import KeysetPagination
from portal.core.querysets import built_once
from portal.core.uploads import check_upload
from portal.core.workflow import WorkflowError
from repairs import loan_api, selectors, views, workflow
from repairs.dropoff_api import DropoffActionsMixin
from repairs.forms import ATTACHMENT_TYPES
from repairs.models import (
    FaultTicket,
    NetworkTest,
    RepairRequest,
    Satisfaction,
    TicketAttachment,
    TicketComment,
    TicketEvent,
)
from terminals.models import validate_device_number

S = FaultTicket.Status


class TicketEventSerializer(RowSerializerMixin, serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = TicketEvent
        fields = ["from_status", "to_status", "actor", "note", "is_public", "created_at"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_actor(self, event):
        return event.actor.display_name if event.actor_id else "system"


class BranchSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    city = serializers.CharField()
    address = serializers.CharField()
    phone = serializers.CharField()
    hours = serializers.CharField()


class NetworkTestSerializer(RowSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = NetworkTest
        fields = ["passed", "details", "created_at"]


class RepairRequestSerializer(RowSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = RepairRequest
        fields = ["form_number", "documents", "diagnosis", "work_done", "parts", "picked_up_at", "created_at"]


class TicketSerializer(serializers.ModelSerializer):
    terminal = serializers.CharField(source="terminal.serial_number", read_only=True)
    merchant = serializers.CharField(source="merchant.name", read_only=True)
    branch = BranchSerializer(read_only=True, allow_null=True)
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)

    class Meta:
        model = FaultTicket
        fields = [
            "service_order_no", "status", "terminal", "merchant", "fault_type", "priority", "agent_name",
            "branch", "sla_due_at", "overdue", "version", "created_at", "updated_at", "closed_at",
        ]
        read_only_fields = fields


class TicketRowSerializer(RowSerializerMixin, TicketSerializer):
    """The list's rows (the API's busiest answer): TicketSerializer's fields, read by its plan."""


class TicketDetailSerializer(RowSerializerMixin, TicketSerializer):
    tag_number = serializers.CharField(source="terminal.tag_number", read_only=True)
    events = serializers.SerializerMethodField()
    network_tests = serializers.SerializerMethodField()
    repair_request = serializers.SerializerMethodField()
    pickup_code = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = TicketSerializer.Meta.fields + [
            "tag_number", "symptoms", "contact_window", "source", "events", "network_tests", "repair_request",
            "pickup_code", "allowed_transitions",
        ]
        read_only_fields = fields

    def _user(self):
        return self.context["request"].user

    @extend_schema_field(TicketEventSerializer(many=True))
    def get_events(self, ticket):
        return TicketEventSerializer(selectors.public_events(ticket, self._user()), many=True).data

    @extend_schema_field(NetworkTestSerializer(many=True))
    def get_network_tests(self, ticket):
        return NetworkTestSerializer(selectors.network_tests(ticket), many=True).data

    @extend_schema_field(RepairRequestSerializer(allow_null=True))
    def get_repair_request(self, ticket):
        rr = selectors.repair_request(ticket)
        return RepairRequestSerializer(rr).data if rr else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_pickup_code(self, ticket):
        """Only to the ticket's own merchant, only while ready for pickup."""
        user = self._user()
        if not (user.is_merchant and user.merchant_id == ticket.merchant_id and ticket.status == S.READY_FOR_PICKUP):
            return None
        rr = selectors.repair_request(ticket)
        return rr.pickup_code if rr else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, ticket):
        return [t.target for t in workflow.allowed_transitions(ticket, self._user())]


class TicketCreateSerializer(serializers.Serializer):
    terminal = serializers.CharField(
        help_text="The terminal's serial number (terminal number).", validators=[validate_device_number]
    )
    fault_type = serializers.ChoiceField(choices=FaultTicket.FaultType.choices)
    symptoms = serializers.CharField(max_length=4000)
    contact_window = serializers.CharField(max_length=100, required=False, allow_blank=True)
    priority = serializers.ChoiceField(
        choices=FaultTicket.Priority.choices, required=False, help_text="Staff only; merchants get the default."
    )


# The body of POST …/transition/: `to` and every field a step takes, declared once in the
# workflow (repairs.workflow.FIELDS), with the version the client saw.
TransitionSerializer = step_serializer("TicketTransition", workflow.MACHINE, extra={
    "version": serializers.IntegerField(
        required=False, help_text="The ticket version you saw; a changed ticket answers 409 (stale)."
    ),
})


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 date-time compared in UTC: Python accepts offsets up to ±23:59, PostgreSQL only
    ±15:59, so `?created_after=2026-01-01T00:00-16:30` was a 500 (found by schemathesis)."""

    def filter(self, qs, value):
        if value is not None and timezone.is_aware(value):
            try:
                value = value.astimezone(datetime.UTC)
            except OverflowError:
                value = (datetime.datetime.min if value.year < 2 else datetime.datetime.max).replace(
                    tzinfo=datetime.UTC
                )
        return super().filter(qs, value)


class TicketFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=S.choices)
    fault_type = django_filters.ChoiceFilter(choices=FaultTicket.FaultType.choices)
    priority = django_filters.ChoiceFilter(choices=FaultTicket.Priority.choices)
    branch = django_filters.CharFilter(field_name="branch__code", lookup_expr="iexact")
    terminal = django_filters.CharFilter(field_name="terminal__serial_number", lookup_expr="iexact")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    open = django_filters.BooleanFilter(method="filter_open")
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = FaultTicket
        fields = ["status", "fault_type", "priority", "branch", "terminal"]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = queryset.overdue(timezone.now())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.open() if value else queryset.filter(status__in=FaultTicket.FINAL_STATUSES)


@built_once
def _ticket_rows():
    """The list's rows, newest first: only the columns TicketSerializer shows (each row is three
    objects); each request adds the caller's visibility to a clone."""
    return FaultTicket.objects.select_related("terminal", "merchant", "branch").only(
        *(f for f in TicketSerializer.Meta.fields if f not in ("terminal", "merchant", "branch", "overdue")),
        "terminal__serial_number", "merchant__name",
        *(f"branch__{f}" for f in BranchSerializer().fields),
    ).order_by("-created_at", "-pk")


@extend_schema_view(
    list=extend_schema(
        summary="Fault tickets visible to the caller (merchants: their own)",
        responses={200: TicketSerializer, 404: OpenApiResponse(description="No such page")},
    ),
    retrieve=extend_schema(
        summary="One ticket with its timeline; pickup_code only to its merchant when ready",
        responses={200: TicketDetailSerializer, 404: OpenApiResponse(description="No such ticket visible to the caller")},
    ),
)
class TicketViewSet(DropoffActionsMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "service_order_no"
    # Only well-formed numbers reach the view: a NUL byte in the path was a 500 from PostgreSQL.
    lookup_value_regex = number_pattern("SO", anchored=False)
    filterset_class = TicketFilter
    pagination_class = KeysetPagination

    def get_queryset(self):
        if self.action == "list":
            return _ticket_rows().visible_to(self.request.user)
        return selectors.visible_tickets(self.request.user).order_by("-created_at", "-pk")

    def get_serializer_class(self):
        return TicketRowSerializer if self.action == "list" else TicketDetailSerializer

    @extend_schema(
        summary="Report a fault",
        request=TicketCreateSerializer,
        responses={
            201: TicketDetailSerializer,
            400: OpenApiResponse(description="Field errors, e.g. the terminal already has an open ticket"),
            404: OpenApiResponse(ErrorSerializer, description="No such terminal visible to the caller"),
        },
    )
    def create(self, request):
        from terminals.models import Terminal

        data = TicketCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        terminal = Terminal.objects.visible_to(request.user).filter(serial_number=values["terminal"]).first()
        if terminal is None:
            return Response(
                {"detail": "No terminal with this serial number is visible to you.", "code": "not_found"},
                status=status.HTTP_404_NOT_FOUND,
            )
        ticket = workflow.create_ticket(
            terminal=terminal, actor=request.user, fault_type=values["fault_type"],
            symptoms=values["symptoms"], contact_window=values.get("contact_window", ""),
            priority=values.get("priority") if request.user.is_staff_role else None,
            source=FaultTicket.Source.API,
        )
        ticket = self.get_queryset().get(pk=ticket.pk)
        return Response(TicketDetailSerializer(ticket, context={"request": request}).data, status=201)

    @extend_schema(
        summary="Move the ticket to another state (DESIGN.md transition table)",
        request=TransitionSerializer,
        responses={
            200: TicketDetailSerializer,
            400: OpenApiResponse(description="Field errors (e.g. wrong tag number or pickup code)"),
            403: OpenApiResponse(ErrorSerializer, description="Not allowed for the caller's role or branch"),
            404: OpenApiResponse(description="No such ticket visible to the caller"),
            409: OpenApiResponse(ErrorSerializer, description="Not allowed from the current state, or stale"),
        },
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, service_order_no=None, **kwargs):
        data = TransitionSerializer(data=request.data)
        if not data.is_valid():
            self.get_object()  # a ticket the caller cannot see is a 404 before any field error
            raise ValidationError(data.errors)
        fields = {k: v for k, v in data.validated_data.items() if v is not None}
        to = fields.pop("to")
        # The transition's locked read is the visibility check too, and the answer is the row it
        # saved: the ticket is read once.
        tickets = self.filter_queryset(self.get_queryset()).filter(service_order_no=service_order_no)
        try:
            event = workflow.ticket_transition(ticket=tickets, to=to, actor=request.user, **fields)
        except FaultTicket.DoesNotExist:
            raise Http404 from None
        return Response(TicketDetailSerializer(event.ticket, context={"request": request}).data)

    @extend_schema(summary="Lend a loaner from the branch's pool (at intake)", request=loan_api.LendSerializer,
                   responses={201: loan_api.LoanSerializer, **loan_api.ERRORS})
    @action(detail=True, methods=["post"])
    def loaner(self, request, service_order_no=None, **kwargs):
        return loan_api.lend(request, self.get_object())

    @extend_schema(summary="Check the loaner back in, or record it missing or damaged",
                   request=loan_api.ReturnSerializer, responses={200: loan_api.LoanSerializer, **loan_api.ERRORS})
    @action(detail=True, methods=["post"], url_path="loaner/return", url_name="loaner-return")
    def loaner_return(self, request, service_order_no=None, **kwargs):
        return loan_api.give_back(request, self.get_object())

# --- the ticket page's other actions (comments, files, pickup code, rating) and the agent's call log,
# each calling the same workflow function as its page ---


def _visible_ticket(request, service_order_no):
    return get_object_or_404(selectors.ticket_for(request.user, service_order_no))


class TicketCommentSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.display_name", read_only=True)
    body = serializers.CharField(max_length=4000)
    is_public = serializers.BooleanField(
        default=True, help_text="Staff only: false keeps the comment internal (merchants' comments are public)."
    )

    class Meta:
        model = TicketComment
        fields = ["id", "author", "body", "is_public", "created_at"]
        read_only_fields = ["id", "author", "created_at"]


class TicketAttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.display_name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = TicketAttachment
        fields = ["id", "original_name", "content_type", "size", "is_public", "uploaded_by", "created_at", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, item):
        return reverse("ticket-attachment-file", args=[item.ticket.service_order_no, item.pk])


class TicketAttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG or PDF; the content is checked, not the name.")
    is_public = serializers.BooleanField(default=True, help_text="Staff only: false keeps the file internal.")

    def validate_file(self, uploaded):
        try:
            self.content_type = check_upload(uploaded, allowed=ATTACHMENT_TYPES)
        except DjangoValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return uploaded


class RatingSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class SatisfactionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Satisfaction
        fields = ["rating", "comment", "created_at"]
        read_only_fields = fields


class LogCallSerializer(TicketCreateSerializer):
    merchant = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1,
        help_text="The caller's merchant id: the terminal must be one of its terminals.",
    )


TICKET_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Field errors by name"),
    403: OpenApiResponse(ErrorSerializer, description="Not your role"),
    404: OpenApiResponse(ErrorSerializer, description="No such ticket visible to you"),
}


class TicketCommentsView(generics.GenericAPIView):
    """GET/POST /api/v1/tickets/{service_order_no}/comments/: internal comments only to staff."""

    serializer_class = TicketCommentSerializer
    queryset = TicketComment.objects.none()  # for the schema; each handler reads the ticket's own

    @extend_schema(summary="The ticket's comments (internal ones to staff only)",
                   responses={200: TicketCommentSerializer(many=True), 404: TICKET_ERRORS[404]})
    def get(self, request, service_order_no):
        ticket = _visible_ticket(request, service_order_no)
        comments = TicketComment.objects.visible_to(request.user).filter(ticket=ticket).select_related("author")
        page = self.paginate_queryset(comments.order_by("created_at", "pk"))
        return self.get_paginated_response(TicketCommentSerializer(page, many=True).data)

    @extend_schema(summary="Comment on the ticket (staff may keep it internal)",
                   request=TicketCommentSerializer, responses={201: TicketCommentSerializer, **TICKET_ERRORS})
    def post(self, request, service_order_no):
        ticket = _visible_ticket(request, service_order_no)
        data = TicketCommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = workflow.add_comment(ticket=ticket, author=request.user, body=data.validated_data["body"],
                                       is_public=data.validated_data["is_public"])
        return Response(TicketCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class TicketAttachmentsView(generics.GenericAPIView):
    """GET/POST /api/v1/tickets/{service_order_no}/attachments/ (multipart: file, is_public)."""

    serializer_class = TicketAttachmentUploadSerializer
    queryset = TicketAttachment.objects.none()  # for the schema; each handler reads the ticket's own
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="The ticket's files (internal ones to staff only)",
                   responses={200: TicketAttachmentSerializer(many=True), 404: TICKET_ERRORS[404]})
    def get(self, request, service_order_no):
        ticket = _visible_ticket(request, service_order_no)
        files = TicketAttachment.objects.visible_to(request.user).filter(ticket=ticket).select_related(
            "uploaded_by", "ticket")
        page = self.paginate_queryset(files.order_by("created_at", "pk"))
        return self.get_paginated_response(TicketAttachmentSerializer(page, many=True).data)

    @extend_schema(summary="Attach a photo or PDF to the ticket",
                   request={"multipart/form-data": TicketAttachmentUploadSerializer},
                   responses={201: TicketAttachmentSerializer, **TICKET_ERRORS})
    def post(self, request, service_order_no):
        ticket = _visible_ticket(request, service_order_no)
        data = TicketAttachmentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = workflow.add_attachment(ticket=ticket, uploaded=data.validated_data["file"],
                                       content_type=data.content_type, actor=request.user,
                                       is_public=data.validated_data["is_public"])
        return Response(TicketAttachmentSerializer(item).data, status=status.HTTP_201_CREATED)


class TicketAttachmentFileView(generics.GenericAPIView):
    """GET /api/v1/tickets/{service_order_no}/attachments/{id}/file/: the file itself."""

    serializer_class = None

    @extend_schema(parameters=[id_parameter()], summary="Download one of the ticket's files",
                   responses={**{(200, media): OpenApiTypes.BINARY for media in ATTACHMENT_TYPES},
                              404: TICKET_ERRORS[404]})
    def get(self, request, service_order_no, pk):
        pk = object_id(pk)
        ticket = _visible_ticket(request, service_order_no)
        get_object_or_404(TicketAttachment.objects.visible_to(request.user).filter(ticket=ticket), pk=pk)
        # The page's own file view answers (the same headers and name); DRF has set its user.
        return views.attachment(request._request, pk=pk)


class PickupCodeView(generics.GenericAPIView):
    """POST /api/v1/tickets/{service_order_no}/pickup-code/: a new pickup code (the old one stops working)."""

    serializer_class = None

    @extend_schema(summary="Issue a new pickup code while ready for pickup (the merchant sees it on the ticket)",
                   request=None,
                   responses={200: TicketDetailSerializer, 409: OpenApiResponse(ErrorSerializer), **TICKET_ERRORS})
    def post(self, request, service_order_no):
        ticket = _visible_ticket(request, service_order_no)
        workflow.reissue_pickup_code(ticket=ticket, actor=request.user)
        ticket = get_object_or_404(selectors.ticket_for(request.user, service_order_no))
        return Response(TicketDetailSerializer(ticket, context={"request": request}).data)


class RatingView(generics.GenericAPIView):
    """POST /api/v1/tickets/{service_order_no}/rating/: the merchant's satisfaction, once."""

    serializer_class = RatingSerializer

    @extend_schema(summary="Rate the finished repair, 1 to 5 (the ticket's merchant, once)",
                   request=RatingSerializer,
                   responses={201: SatisfactionSerializer, 409: OpenApiResponse(ErrorSerializer), **TICKET_ERRORS})
    def post(self, request, service_order_no):
        ticket = _visible_ticket(request, service_order_no)
        data = RatingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rating = workflow.rate_ticket(ticket=ticket, actor=request.user, rating=data.validated_data["rating"],
                                      comment=data.validated_data.get("comment", ""))
        return Response(SatisfactionSerializer(rating).data, status=status.HTTP_201_CREATED)


class LogCallView(generics.GenericAPIView):
    """POST /api/v1/tickets/log-call/: an agent logs a merchant's phone call (source "phone")."""

    serializer_class = LogCallSerializer

    @extend_schema(summary="Log a merchant's phone call as a ticket on one of its terminals (agents)",
                   request=LogCallSerializer, responses={201: TicketDetailSerializer, **TICKET_ERRORS})
    def post(self, request):
        from terminals.models import Terminal

        if not (request.user.is_agent or request.user.is_admin_role):
            raise WorkflowError(_("Only a customer-service agent logs calls."), code="forbidden")
        data = LogCallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # The log-call page's terminal lookup: a terminal in a merchant's hands, visible to the agent.
        terminal = Terminal.objects.visible_to(request.user).filter(
            merchant__isnull=False, serial_number=values["terminal"]).first()
        if terminal is None or values.get("merchant", terminal.merchant_id) != terminal.merchant_id:
            raise WorkflowError.invalid({"terminal": [_("No terminal of this merchant has this serial number.")]},
                                        _("No terminal of this merchant has this serial number."))
        ticket = workflow.create_ticket(
            terminal=terminal, actor=request.user, fault_type=values["fault_type"], symptoms=values["symptoms"],
            contact_window=values.get("contact_window", ""), priority=values.get("priority"),
            source=FaultTicket.Source.PHONE,
        )
        ticket = get_object_or_404(selectors.ticket_for(request.user, ticket.service_order_no))
        return Response(TicketDetailSerializer(ticket, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


# Registered by portal/api.py ahead of the router (log-call/ before the ticket lookup).
# Only well-formed values reach a view (a NUL byte or a stray character is a 404 of the router).
SO_PATH = number_pattern("SO", anchored=False)

urlpatterns = [
    path("tickets/log-call/", LogCallView.as_view(), name="ticket-log-call"),
    re_path(rf"^tickets/(?P<service_order_no>{SO_PATH})/comments/$", TicketCommentsView.as_view(), name="ticket-comments"),
    re_path(rf"^tickets/(?P<service_order_no>{SO_PATH})/attachments/$", TicketAttachmentsView.as_view(), name="ticket-attachments"),
    re_path(rf"^tickets/(?P<service_order_no>{SO_PATH})/attachments/{ID_PATH}/file/$", TicketAttachmentFileView.as_view(),
         name="ticket-attachment-file"),
    re_path(rf"^tickets/(?P<service_order_no>{SO_PATH})/pickup-code/$", PickupCodeView.as_view(), name="ticket-pickup-code"),
    re_path(rf"^tickets/(?P<service_order_no>{SO_PATH})/rating/$", RatingView.as_view(), name="ticket-rating"),
]
