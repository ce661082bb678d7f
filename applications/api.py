"""The applications API (DESIGN.md): /api/v1/applications/, /{number}/, /{number}/documents/,
/{number}/transition/, and /{number}/volumes/ (monthly card volume of the assigned terminals)."""

import django_filters
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import re_path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from applications import selectors, workflow
from applications.models import Application, ApplicationDocument, ApplicationEvent, MonthlyVolume
from portal.accounts.models import Channel
from portal.core.api import ID_PATH, ErrorSerializer, id_parameter, object_id, step_serializer
from portal.core.filters import FilterSet
from portal.core.numbering import number_pattern
from portal.core.uploads import DOCUMENT_TYPES, check_upload
from portal.core.workflow import WorkflowError
from repairs.models import FaultTicket
from terminals.models import Deregistration, Terminal


class ApplicationEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    summary = serializers.CharField(read_only=True)

    class Meta:
        model = ApplicationEvent
        fields = ["kind", "action", "subject", "summary", "from_status", "to_status", "actor", "note", "created_at"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_actor(self, event):
        return event.actor.display_name if event.actor_id else "system"


class ApplicationDocumentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ApplicationDocument
        fields = ["id", "kind", "original_name", "content_type", "size", "verdict", "verdict_reason",
                  "uploaded_at", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_url(self, doc):
        """The private, visibility-checked file view (each view is logged)."""
        return doc.get_absolute_url()


class ApplicationDocumentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ApplicationDocument.Kind.choices)
    file = serializers.FileField(help_text="PDF, JPEG or PNG; the content is checked, not the name.")

    def validate_file(self, uploaded):
        try:
            self.content_type = check_upload(uploaded, allowed=DOCUMENT_TYPES)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return uploaded


class DepositProgressSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, source="account.amount")
    target = serializers.DecimalField(max_digits=14, decimal_places=2)
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    percent = serializers.IntegerField()
    deadline = serializers.DateField()
    eligible = serializers.BooleanField()
    expired = serializers.BooleanField()
    refunded = serializers.BooleanField(source="account.refunded")


class ApplicationSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.service_order_no", read_only=True, allow_null=True)
    channel = serializers.CharField(source="channel.code", read_only=True)
    merchant = serializers.CharField(source="merchant.name", read_only=True)

    class Meta:
        model = Application
        fields = ["number", "kind", "status", "merchant", "ticket", "channel", "quantity", "fee_plan",
                  "fee_amount", "deposit_target", "deposit_months", "submitted_at", "created_at", "updated_at"]
        read_only_fields = fields


class ApplicationDetailSerializer(ApplicationSerializer):
    documents = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    terminals = serializers.SerializerMethodField()
    deposit = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()

    class Meta(ApplicationSerializer.Meta):
        fields = ApplicationSerializer.Meta.fields + [
            "remarks", "decision_reason", "contract_number", "contract_signed_on", "training_date",
            "activated_on", "documents", "terminals", "deposit", "events", "allowed_transitions",
        ]
        read_only_fields = fields

    @extend_schema_field(ApplicationDocumentSerializer(many=True))
    def get_documents(self, app):
        return ApplicationDocumentSerializer(app.documents.all(), many=True).data

    @extend_schema_field(ApplicationEventSerializer(many=True))
    def get_events(self, app):
        user = self.context["request"].user
        events = [e for e in app.events.all() if e.is_public or user.is_staff_role]
        return ApplicationEventSerializer(events, many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_terminals(self, app):
        return [t.serial_number for t in app.terminals.all()]

    @extend_schema_field(DepositProgressSerializer(allow_null=True))
    def get_deposit(self, app):
        progress = selectors.deposit_for(app)
        return DepositProgressSerializer(progress).data if progress else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_transitions(self, app):
        return [t.target for t in workflow.allowed_transitions(app, self.context["request"].user)]


class ApplicationCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Application.Kind.choices)
    ticket = serializers.RegexField(number_pattern("SO"), required=False, allow_blank=True,
                                    help_text="Service-order number of the unrepairable ticket (replacement).")
    channel = serializers.CharField(help_text="Channel code, e.g. BANK.")
    quantity = serializers.IntegerField(min_value=1, max_value=20, default=1)
    fee_plan = serializers.ChoiceField(choices=Application.FeePlan.choices)
    remarks = serializers.CharField(required=False, allow_blank=True, max_length=2000)


# The body of POST …/transition/: `to` and every field a step takes, declared once in the
# workflow (applications.workflow.FIELDS).
ApplicationTransitionSerializer = step_serializer("ApplicationTransition", workflow.MACHINE)


class MonthlyVolumeSerializer(serializers.ModelSerializer):
    terminal = serializers.CharField(source="terminal.serial_number")
    month = serializers.DateField(help_text="Any day of the month (stored as its first day).")

    class Meta:
        model = MonthlyVolume
        fields = ["terminal", "month", "amount", "updated_at"]
        read_only_fields = ["updated_at"]


class ApplicationFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Application.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Application.Kind.choices)
    channel = django_filters.CharFilter(field_name="channel__code", lookup_expr="iexact")

    class Meta:
        model = Application
        fields = ["status", "kind", "channel"]


ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid: field errors by name"),
    403: OpenApiResponse(ErrorSerializer, description="Not your role"),
    404: OpenApiResponse(description="No such application visible to you"),
}


@extend_schema_view(
    list=extend_schema(summary="Applications visible to the caller (merchants: their own)"),
    retrieve=extend_schema(summary="One application with its documents, terminals, deposit and timeline"),
)
class ApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "number"
    # Only well-formed numbers reach the view: a NUL byte in the path was a 500 from PostgreSQL.
    lookup_value_regex = number_pattern("AP", anchored=False)
    filterset_class = ApplicationFilter

    def get_queryset(self):
        user = self.request.user
        if self.action == "list":
            return selectors.applications_for(user).select_related("merchant")
        return Application.objects.visible_to(user).select_related("merchant", "channel", "ticket").prefetch_related(
            "documents", "terminals", "events__actor"
        )

    def get_serializer_class(self):
        return ApplicationDetailSerializer if self.action == "retrieve" else ApplicationSerializer

    def get_object(self):
        return get_object_or_404(self.get_queryset(), number=self.kwargs["number"])

    @extend_schema(
        summary="Apply for a terminal (merchants); returns the number and status draft",
        request=ApplicationCreateSerializer,
        responses={201: ApplicationDetailSerializer, **ERRORS},
    )
    def create(self, request, *args, **kwargs):
        data = ApplicationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        channel = Channel.objects.filter(code=v["channel"]).first()
        if channel is None:
            raise WorkflowError.invalid({"channel": [_("Unknown channel.")]}, _("Unknown channel."))
        ticket = None
        if v.get("ticket"):
            ticket = FaultTicket.objects.visible_to(request.user).filter(service_order_no=v["ticket"]).first()
            if ticket is None:
                raise WorkflowError.invalid({"ticket": [_("No such fault ticket.")]}, _("No such fault ticket."))
        app = workflow.create_application(
            actor=request.user, kind=v["kind"], ticket=ticket, channel=channel, quantity=v["quantity"],
            fee_plan=v["fee_plan"], remarks=v.get("remarks", ""),
        )
        app = self.get_queryset().get(pk=app.pk)
        return Response(ApplicationDetailSerializer(app, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], summary="The application's documents", responses=ApplicationDocumentSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        summary="Upload a document (multipart: kind, file)",
        request={"multipart/form-data": ApplicationDocumentUploadSerializer},
        responses={201: ApplicationDocumentSerializer, 409: OpenApiResponse(ErrorSerializer), **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser],
            pagination_class=None)
    def documents(self, request, number=None, **kwargs):
        app = self.get_object()
        if request.method == "GET":
            return Response(ApplicationDocumentSerializer(app.documents.all(), many=True).data)
        upload = ApplicationDocumentUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        doc = workflow.add_document(
            application=app, kind=upload.validated_data["kind"], uploaded=upload.validated_data["file"],
            content_type=upload.content_type, actor=request.user,
        )
        return Response(ApplicationDocumentSerializer(doc).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move the application to another state",
        request=ApplicationTransitionSerializer,
        responses={200: ApplicationDetailSerializer, 409: OpenApiResponse(ErrorSerializer, "Not allowed now"),
                   **ERRORS},
    )
    @action(detail=True, methods=["post"], parser_classes=[JSONParser, FormParser, MultiPartParser])
    def transition(self, request, number=None, **kwargs):
        app = self.get_object()
        data = ApplicationTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {k: v for k, v in data.validated_data.items() if v is not None}
        to = fields.pop("to")
        workflow.application_transition(application=app, to=to, actor=request.user, **fields)
        app = self.get_queryset().get(pk=app.pk)
        return Response(ApplicationDetailSerializer(app, context={"request": request}).data)

    @extend_schema(methods=["GET"], summary="Monthly card volumes of the assigned terminals",
                   responses=MonthlyVolumeSerializer(many=True))
    @extend_schema(
        methods=["POST"],
        summary="Record (or correct) one terminal's card volume for one month (staff)",
        request=MonthlyVolumeSerializer,
        responses={201: MonthlyVolumeSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def volumes(self, request, number=None, **kwargs):
        app = self.get_object()
        if request.method == "GET":
            return Response(MonthlyVolumeSerializer(selectors.volumes_for(app), many=True).data)
        data = MonthlyVolumeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        serial = data.validated_data["terminal"]["serial_number"]
        terminal = Terminal.objects.filter(applications=app, serial_number=serial).first()
        if terminal is None:
            raise WorkflowError.invalid({"terminal": [_("Not assigned to this application.")]},
                                        _("This terminal is not assigned to the application."))
        volume = workflow.record_volume(terminal=terminal, month=data.validated_data["month"],
                                        amount=data.validated_data["amount"], actor=request.user)
        return Response(MonthlyVolumeSerializer(volume).data, status=status.HTTP_201_CREATED)


# --- the reviewer's records (DESIGN.md "Public contracts"): the same workflow calls as the pages ---


def _visible_application(request, number):
    """The application as its page finds it; then, as the pages do, only reviewers act (a 403 after
    the 404 of another merchant's application, before any field error)."""
    app = get_object_or_404(Application.objects.visible_to(request.user), number=number)
    if not request.user.is_reviewer_or_admin:
        raise PermissionDenied
    return app


class DocumentVerdictSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=[ApplicationDocument.Verdict.VERIFIED,
                                               ApplicationDocument.Verdict.REJECTED])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                   help_text="Needed to reject.")


class InspectionSerializer(serializers.Serializer):
    interview_date = serializers.DateField()
    interview_notes = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    inspection_date = serializers.DateField()
    inspection_notes = serializers.CharField(max_length=4000)


class OldTerminalDeregistrationSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=Deregistration.Method.choices)
    certificate_number = serializers.CharField(max_length=60)
    witness = serializers.CharField(max_length=100)
    date = serializers.DateField(required=False, help_text="Defaults to today.")


class DocumentVerdictView(generics.GenericAPIView):
    """POST /api/v1/applications/{number}/documents/{id}/verdict/ (reviewers, while under_review)."""

    serializer_class = DocumentVerdictSerializer

    @extend_schema(parameters=[id_parameter()], summary="Verify or reject one document (reviewers, while under_review)",
                   request=DocumentVerdictSerializer,
                   responses={200: ApplicationDocumentSerializer, 409: OpenApiResponse(ErrorSerializer), **ERRORS})
    def post(self, request, number, pk):
        pk = object_id(pk)
        app = _visible_application(request, number)
        doc = get_object_or_404(app.documents.all(), pk=pk)
        data = DocumentVerdictSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        doc = workflow.judge_document(document=doc, verdict=data.validated_data["verdict"], actor=request.user,
                                      reason=data.validated_data.get("reason", ""))
        return Response(ApplicationDocumentSerializer(doc).data)


class InspectionView(generics.GenericAPIView):
    """POST /api/v1/applications/{number}/inspection/ (reviewers, while inspection)."""

    serializer_class = InspectionSerializer

    @extend_schema(summary="Record the interview and on-site inspection (reviewers, while inspection)",
                   request=InspectionSerializer,
                   responses={200: ApplicationDetailSerializer, 409: OpenApiResponse(ErrorSerializer), **ERRORS})
    def post(self, request, number):
        app = _visible_application(request, number)
        data = InspectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow.record_inspection(application=app, actor=request.user, **data.validated_data)
        return _application_answer(request, app)


class OldTerminalDeregistrationView(generics.GenericAPIView):
    """POST /api/v1/applications/{number}/deregistration/: the replaced terminal's deregistration."""

    serializer_class = OldTerminalDeregistrationSerializer

    @extend_schema(summary="Record how the replaced terminal left service (reviewers, once approved)",
                   request=OldTerminalDeregistrationSerializer,
                   responses={201: ApplicationDetailSerializer, 409: OpenApiResponse(ErrorSerializer), **ERRORS})
    def post(self, request, number):
        app = _visible_application(request, number)
        data = OldTerminalDeregistrationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {"date": timezone.localdate(), **data.validated_data}
        workflow.record_old_terminal_deregistration(application=app, actor=request.user, **fields)
        return _application_answer(request, app, status.HTTP_201_CREATED)


class DepositRefundView(generics.GenericAPIView):
    """POST /api/v1/applications/{number}/deposit/refund/ (reviewers, once the target is reached)."""

    serializer_class = serializers.Serializer

    @extend_schema(summary="Record the deposit's refund (reviewers, once eligible)", request=None,
                   responses={200: ApplicationDetailSerializer, 409: OpenApiResponse(ErrorSerializer), **ERRORS})
    def post(self, request, number):
        app = _visible_application(request, number)
        workflow.refund_deposit(application=app, actor=request.user)
        return _application_answer(request, app)


def _application_answer(request, app, code=status.HTTP_200_OK):
    app = ApplicationViewSet(request=request, action="retrieve", format_kwarg=None).get_queryset().get(pk=app.pk)
    return Response(ApplicationDetailSerializer(app, context={"request": request}).data, status=code)


# Registered by portal/api.py, next to the router's ApplicationViewSet.
# Only well-formed values reach a view (a NUL byte or a stray character is a 404 of the router).
AP_PATH = number_pattern("AP", anchored=False)

urlpatterns = [
    re_path(rf"^applications/(?P<number>{AP_PATH})/documents/{ID_PATH}/verdict/$", DocumentVerdictView.as_view(),
         name="application-document-verdict"),
    re_path(rf"^applications/(?P<number>{AP_PATH})/inspection/$", InspectionView.as_view(), name="application-inspection"),
    re_path(rf"^applications/(?P<number>{AP_PATH})/deregistration/$", OldTerminalDeregistrationView.as_view(),
         name="application-deregistration"),
    re_path(rf"^applications/(?P<number>{AP_PATH})/deposit/refund/$", DepositRefundView.as_view(), name="application-refund"),
]
