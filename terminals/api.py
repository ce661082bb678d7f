"""REST API of terminals (DESIGN.md, "REST API"): read scoped by visibility; deregistration by staff."""

import django_filters
from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, re_path, reverse
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
from rest_framework import generics, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.accounts.models import Branch
from portal.core.api import ID_PATH, ErrorSerializer, id_filter, id_parameter, object_id
from portal.core.filters import FilterSet
from portal.core.workflow import WorkflowError
from terminals import selectors, services, telemetry
from terminals.forms import ActivateForm, ImportForm, IssueForm
from terminals.models import Deregistration, ImportJob, MaintenanceRecord, Terminal


class TerminalAPIFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=Terminal.Status.choices, help_text=_("Terminal status."))
    merchant = id_filter("merchant_id", _("Merchant id."))

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


class HealthCodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    reports = serializers.IntegerField(help_text=_("Reports with this code in the period."))
    title = serializers.CharField(help_text=_("From the error-code table, or the terminal's own text."))
    severity = serializers.CharField(allow_blank=True)
    explanation = serializers.CharField(allow_blank=True)
    suggested_fix = serializers.CharField(allow_blank=True, help_text=_("The note for the resolved_remotely step."))


class HealthSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    last_seen = serializers.DateTimeField(allow_null=True)
    online = serializers.BooleanField(allow_null=True)
    firmware_version = serializers.CharField(allow_blank=True)
    software_version = serializers.CharField(allow_blank=True)
    online_hours = serializers.IntegerField()
    offline_hours = serializers.IntegerField()
    silent_hours = serializers.IntegerField()
    error_hours = serializers.IntegerField()
    codes = HealthCodeSerializer(many=True)


def health_data(terminal):
    """The health panel's content as data (terminals.selectors.health_panel_context)."""
    context = selectors.health_panel_context(terminal)
    health, latest = context["health"], context["health"].latest
    return {
        "days": health.days,
        "last_seen": latest.reported_at if latest else None,
        "online": latest.online if latest else None,
        "firmware_version": latest.firmware_version if latest else "",
        "software_version": latest.software_version if latest else "",
        **{k: context[k] for k in ("online_hours", "offline_hours", "silent_hours", "error_hours")},
        "codes": [
            {"code": code, "reports": n, "title": known.title if known else text,
             "severity": known.severity if known else "", "explanation": known.explanation if known else "",
             "suggested_fix": known.suggested_fix if known else ""}
            for known, code, text, n in health.codes
        ],
    }


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

    @extend_schema(
        summary=_("The terminal's health over the last 7 days (staff)"),
        responses={200: HealthSerializer, 404: OpenApiResponse(_error, description="Unknown terminal, or a merchant.")},
    )
    @action(detail=True, methods=["get"])
    def health(self, request, serial_number=None, **kwargs):
        if not request.user.is_staff_role:
            raise Http404
        return Response(health_data(self.get_object()))


class TelemetryResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text=_("Reports stored."))
    duplicates = serializers.IntegerField(help_text=_("Reports already stored for that source, terminal and time."))
    unknown_serials = serializers.ListField(child=serializers.CharField(), help_text=_("Serials we do not know: not stored."))


class TelemetryIngestView(APIView):
    """POST /api/v1/telemetry/: a signed batch of health reports from a terminal-management system
    (terminals.telemetry; docs/telemetry.md). The signature is the authentication: no user."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = ()
    throttle_classes = ()

    @extend_schema(
        operation_id="telemetry_ingest",
        summary=_("Send a signed batch of terminal health reports"),
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter("X-Telemetry-Source", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-Telemetry-Timestamp", str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter("X-Telemetry-Signature", str, OpenApiParameter.HEADER, required=True),
        ],
        responses={200: TelemetryResultSerializer, 400: ErrorSerializer, 401: ErrorSerializer,
                   409: ErrorSerializer, 413: ErrorSerializer},
    )
    def post(self, request):
        # Read the raw body ourselves: the signature is over its bytes, and a batch may exceed
        # DATA_UPLOAD_MAX_MEMORY_SIZE (TELEMETRY_MAX_BYTES bounds it instead).
        raw = request._request.read(settings.TELEMETRY_MAX_BYTES + 1)
        headers = request.headers
        try:
            result = telemetry.ingest(
                source_key=headers.get("X-Telemetry-Source", ""),
                timestamp=headers.get("X-Telemetry-Timestamp", ""),
                signature=headers.get("X-Telemetry-Signature", ""),
                body=raw,
            )
        except telemetry.TelemetryRefused as refused:
            return Response(refused.body(), status=refused.status)
        return Response(result)

# --- the terminal page's actions and the imports, calling the same services as the pages ---
# The pages' forms validate the input here too (one owner for each rule: e.g. the credit-code
# lookup and the no-cross-use check of IssueForm, the file checks of ImportForm).


def _form_errors(form):
    """A bound Django form's errors as the API's one error body (raised, so the view answers 400)."""
    errors = {("non_field_errors" if name == "__all__" else name): list(messages) for name, messages in
              form.errors.items()}
    return WorkflowError.invalid(errors, next(iter(errors.values()))[0] if list(errors) == ["non_field_errors"]
                                 else None)


def _managed_terminal(request, serial_number):
    """The terminal as its page finds it; then only inventory managers act (merchants: 404 first)."""
    terminal = get_object_or_404(selectors.terminal_detail(request.user, serial_number))
    if not services.can_manage(request.user):
        raise PermissionDenied(_("Only reviewers and administrators manage the inventory."))
    return terminal


def _terminal_answer(request, serial_number, code=status.HTTP_200_OK):
    terminal = get_object_or_404(selectors.api_terminals(request.user), serial_number=serial_number)
    return Response(TerminalSerializer(terminal).data, status=code)


TERMINAL_ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Field errors by name"),
    403: OpenApiResponse(ErrorSerializer, description="Not your role"),
    404: OpenApiResponse(ErrorSerializer, description="No such terminal visible to you"),
    409: OpenApiResponse(ErrorSerializer, description="Not allowed in the terminal's current status"),
}


class IssueSerializer(serializers.Serializer):
    merchant = serializers.CharField(max_length=18, help_text=_("The merchant's unified social credit code."))
    home_branch = serializers.CharField(required=False, allow_blank=True, max_length=20, help_text=_("Branch code."))
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ActivateSerializer(serializers.Serializer):
    tid = serializers.CharField(max_length=8)
    mid = serializers.CharField(max_length=15)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class MaintenanceSerializer(serializers.ModelSerializer):
    done_by = serializers.CharField(source="done_by.display_name", read_only=True)

    class Meta:
        model = MaintenanceRecord
        fields = ["id", "kind", "done_by", "done_at", "note"]
        read_only_fields = ["id", "done_by", "done_at"]
        extra_kwargs = {"note": {"required": False, "allow_blank": True}}


class IssueView(generics.GenericAPIView):
    """POST /api/v1/terminals/{serial_number}/issue/: a stock terminal to a merchant (pending activation)."""

    serializer_class = IssueSerializer

    @extend_schema(summary="Issue a stock terminal to a merchant (inventory managers)", tags=["terminals"],
                   parameters=[SERIAL], request=IssueSerializer, responses={200: TerminalSerializer, **TERMINAL_ERRORS})
    def post(self, request, serial_number):
        terminal = _managed_terminal(request, serial_number)
        data = IssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        code = values.pop("home_branch", "")
        branch = Branch.objects.filter(is_active=True, code__iexact=code).first() if code else None
        form = IssueForm({**values, "home_branch": branch.pk if branch else ""}, terminal=terminal)
        if code and branch is None:
            raise WorkflowError.invalid({"home_branch": [_("No branch has this code.")]})
        if not form.is_valid():
            raise _form_errors(form)
        services.issue_to_merchant(terminal=terminal, merchant=form.cleaned_data["merchant"],
                                   home_branch=form.cleaned_data["home_branch"], note=form.cleaned_data["note"],
                                   actor=request.user)
        return _terminal_answer(request, serial_number)


class ActivateView(generics.GenericAPIView):
    """POST /api/v1/terminals/{serial_number}/activate/: service goes live (with its TID and MID)."""

    serializer_class = ActivateSerializer

    @extend_schema(summary="Activate an issued terminal (inventory managers)", tags=["terminals"],
                   parameters=[SERIAL], request=ActivateSerializer,
                   responses={200: TerminalSerializer, **TERMINAL_ERRORS})
    def post(self, request, serial_number):
        terminal = _managed_terminal(request, serial_number)
        data = ActivateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        form = ActivateForm(data.validated_data, terminal=terminal)
        if not form.is_valid():
            raise _form_errors(form)
        services.activate(terminal=terminal, actor=request.user, **form.cleaned_data)
        return _terminal_answer(request, serial_number)


class RestockView(generics.GenericAPIView):
    """POST /api/v1/terminals/{serial_number}/restock/: back to stock, free of any merchant."""

    serializer_class = NoteSerializer

    @extend_schema(summary="Return the terminal to stock (inventory managers)", tags=["terminals"],
                   parameters=[SERIAL], request=NoteSerializer, responses={200: TerminalSerializer, **TERMINAL_ERRORS})
    def post(self, request, serial_number):
        terminal = _managed_terminal(request, serial_number)
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.return_to_stock(terminal=terminal, actor=request.user, note=data.validated_data.get("note", ""))
        return _terminal_answer(request, serial_number)


class MaintenanceView(generics.GenericAPIView):
    """GET/POST /api/v1/terminals/{serial_number}/maintenance/: cleaning, paper roll, inspection."""

    serializer_class = MaintenanceSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI schema has no terminal
            return MaintenanceRecord.objects.none()
        terminal = get_object_or_404(selectors.terminal_detail(self.request.user, self.kwargs["serial_number"]))
        return MaintenanceRecord.objects.filter(terminal=terminal).select_related("done_by").order_by("-done_at", "-pk")

    @extend_schema(summary="The terminal's maintenance records, newest first", tags=["terminals"],
                   parameters=[SERIAL], responses={200: MaintenanceSerializer(many=True), 404: TERMINAL_ERRORS[404]})
    def get(self, request, serial_number):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(MaintenanceSerializer(page, many=True).data)

    @extend_schema(summary="Record a cleaning, paper-roll change or inspection", tags=["terminals"],
                   parameters=[SERIAL], request=MaintenanceSerializer,
                   responses={201: MaintenanceSerializer, **TERMINAL_ERRORS})
    def post(self, request, serial_number):
        terminal = get_object_or_404(selectors.terminal_detail(request.user, serial_number))
        data = MaintenanceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = services.log_maintenance(terminal=terminal, kind=data.validated_data["kind"], actor=request.user,
                                          note=data.validated_data.get("note", ""))
        return Response(MaintenanceSerializer(record).data, status=status.HTTP_201_CREATED)


class ImportJobSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True)
    finished = serializers.BooleanField(source="is_finished", read_only=True)

    class Meta:
        model = ImportJob
        fields = ["id", "original_name", "format", "size", "status", "total", "done", "percent", "finished",
                  "created_count", "present_count", "error_count", "message", "created_at", "started_at",
                  "finished_at"]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text=_("CSV or XLSX with the template's columns."))


class RejectedRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    serial_number = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()



class ImportJobsView(generics.GenericAPIView):
    """GET/POST /api/v1/terminals/imports/: upload an inventory file; it is imported in the background."""

    serializer_class = ImportUploadSerializer
    queryset = ImportJob.objects.none()  # for the schema; the handlers read selectors.import_jobs_for
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(summary="Recent imports (inventory managers)", tags=["terminals"],
                   responses={200: ImportJobSerializer(many=True), 403: TERMINAL_ERRORS[403]})
    def get(self, request):
        _check_manager(request)
        page = self.paginate_queryset(selectors.import_jobs_for(request.user))
        return self.get_paginated_response(ImportJobSerializer(page, many=True).data)

    @extend_schema(summary="Upload an inventory file (CSV or XLSX); poll the job it returns", tags=["terminals"],
                   request={"multipart/form-data": ImportUploadSerializer},
                   responses={202: ImportJobSerializer, 400: TERMINAL_ERRORS[400], 403: TERMINAL_ERRORS[403]})
    def post(self, request):
        _check_manager(request)
        form = ImportForm(request.POST, request.FILES)
        if not form.is_valid():
            raise _form_errors(form)
        job = services.create_import_job(uploaded=form.cleaned_data["file"], file_format=form.cleaned_data["format"],
                                         actor=request.user)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED,
                        headers={"Location": reverse("terminal-import", args=[job.pk])})


def _check_manager(request):
    if not services.can_manage(request.user):
        raise (PermissionDenied if request.user.is_staff_role else Http404)()


class ImportJobView(generics.GenericAPIView):
    """GET /api/v1/terminals/imports/{id}/: the job's progress (poll until `finished`)."""

    serializer_class = ImportJobSerializer

    @extend_schema(parameters=[id_parameter()], summary="One import's progress", tags=["terminals"],
                   responses={200: ImportJobSerializer, 403: TERMINAL_ERRORS[403], 404: TERMINAL_ERRORS[404]})
    def get(self, request, pk):
        pk = object_id(pk)
        _check_manager(request)
        return Response(ImportJobSerializer(get_object_or_404(selectors.import_jobs_for(request.user), pk=pk)).data)


class ImportRejectedRowsView(generics.GenericAPIView):
    """GET /api/v1/terminals/imports/{id}/rejected/: the rows refused, with line and reason."""

    serializer_class = RejectedRowSerializer
    queryset = ImportJob.objects.none()  # for the schema; the handler reads selectors.import_jobs_for

    @extend_schema(parameters=[id_parameter()], summary="One finished import's rejected rows, by line", tags=["terminals"],
                   responses={200: RejectedRowSerializer(many=True), 403: TERMINAL_ERRORS[403],
                              404: TERMINAL_ERRORS[404]})
    def get(self, request, pk):
        pk = object_id(pk)
        _check_manager(request)
        job = get_object_or_404(selectors.import_jobs_for(request.user), pk=pk)
        page = self.paginate_queryset(job.errors if job.is_finished else [])
        return self.get_paginated_response(RejectedRowSerializer(page, many=True).data)


# Registered by portal/api.py ahead of the router (imports/ before the terminal lookup).
# Only well-formed values reach a view (a NUL byte or a stray character is a 404 of the router).
SERIAL_PATH = r"[A-Za-z0-9._-]+"

urlpatterns = [
    path("terminals/imports/", ImportJobsView.as_view(), name="terminal-imports"),
    re_path(rf"^terminals/imports/{ID_PATH}/$", ImportJobView.as_view(), name="terminal-import"),
    re_path(rf"^terminals/imports/{ID_PATH}/rejected/$", ImportRejectedRowsView.as_view(), name="terminal-import-rejected"),
    re_path(rf"^terminals/(?P<serial_number>{SERIAL_PATH})/issue/$", IssueView.as_view(), name="terminal-issue"),
    re_path(rf"^terminals/(?P<serial_number>{SERIAL_PATH})/activate/$", ActivateView.as_view(), name="terminal-activate"),
    re_path(rf"^terminals/(?P<serial_number>{SERIAL_PATH})/restock/$", RestockView.as_view(), name="terminal-restock"),
    re_path(rf"^terminals/(?P<serial_number>{SERIAL_PATH})/maintenance/$", MaintenanceView.as_view(), name="terminal-maintenance"),
]
