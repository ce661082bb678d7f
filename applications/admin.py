from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from applications.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationTerminal,
    DepositAccount,
    DocumentAccessLog,
    MonthlyVolume,
)
from applications.workflow import MACHINE


class DocumentInline(admin.TabularInline):
    model = ApplicationDocument
    extra = 0
    can_delete = False
    fields = ("kind", "original_name", "content_type", "size", "verdict", "verdict_reason", "uploaded_at")
    readonly_fields = fields
    show_change_link = True


class AssignmentInline(admin.TabularInline):
    model = ApplicationTerminal
    extra = 0
    can_delete = False
    readonly_fields = ("terminal", "assigned_by", "assigned_at")

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = ApplicationEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "kind", "from_status", "to_status", "actor", "note", "is_public")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Status changes happen on the portal's pages (the workflow); here they are read-only."""

    list_display = ("number", "merchant", "kind", "channel", "quantity", "fee_plan", "status", "submitted_at")
    list_filter = ("status", "kind", "channel", "fee_plan")
    list_select_related = ("merchant", "channel")
    search_fields = ("number", "merchant__name", "contract_number", "ticket__service_order_no")
    readonly_fields = (
        "number", "status", "next_steps", "merchant", "kind", "ticket", "channel", "fee_plan", "fee_amount",
        "deposit_target", "deposit_months", "created_by", "reviewer", "submitted_at", "status_changed_at",
        "contract_number", "contract_signed_on", "activated_on", "created_at", "updated_at",
    )
    fields = readonly_fields + (
        "quantity", "remarks", "decision_reason", "interview_date", "interview_notes", "inspection_date",
        "inspection_notes", "training_date", "training_notes", "activation_notes",
    )
    inlines = [DocumentInline, AssignmentInline, EventInline]

    @admin.display(description=_("possible next steps"))
    def next_steps(self, obj):
        steps = MACHINE.leaving(obj.status)
        return ", ".join(f"{Application.Status(t.target).label} ({', '.join(sorted(t.roles))})" for t in steps) or "—"

    def has_add_permission(self, request):
        return False


@admin.register(DocumentAccessLog)
class DocumentAccessLogAdmin(admin.ModelAdmin):
    list_display = ("document", "user", "accessed_at", "ip_address")
    list_select_related = ("document", "user")
    readonly_fields = ("document", "user", "accessed_at", "ip_address")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DepositAccount)
class DepositAccountAdmin(admin.ModelAdmin):
    list_display = ("application", "amount", "target", "started_on", "deadline", "eligible_on", "refunded")
    list_filter = ("refunded",)
    list_select_related = ("application",)
    readonly_fields = ("application", "amount", "target", "started_on", "deadline", "eligible_on")


@admin.register(MonthlyVolume)
class MonthlyVolumeAdmin(admin.ModelAdmin):
    list_display = ("terminal", "month", "amount", "recorded_by", "updated_at")
    list_select_related = ("terminal", "recorded_by")
    search_fields = ("terminal__serial_number",)
    readonly_fields = ("terminal", "month", "amount", "recorded_by")

    # Volumes are recorded on the application page or through the API, which also flag the refund.
    def has_add_permission(self, request):
        return False
