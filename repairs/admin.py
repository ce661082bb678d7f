"""Ticket admin: read-only status — state changes only through the workflow (the ticket page)."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from repairs import workflow
from repairs.models import (
    BranchClosure,
    DropoffBooking,
    DropoffCapacity,
    FaultTicket,
    NetworkTest,
    RepairRequest,
    Satisfaction,
    TicketAttachment,
    TicketComment,
    TicketEvent,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TicketEventInline(ReadOnlyInline):
    model = TicketEvent
    fields = ("created_at", "from_status", "to_status", "actor", "note", "is_public")
    readonly_fields = fields


class NetworkTestInline(ReadOnlyInline):
    model = NetworkTest
    fields = ("created_at", "passed", "details", "engineer")
    readonly_fields = fields


class TicketCommentInline(ReadOnlyInline):
    model = TicketComment
    fields = ("created_at", "author", "body", "is_public")
    readonly_fields = fields


@admin.register(FaultTicket)
class FaultTicketAdmin(admin.ModelAdmin):
    list_display = (
        "service_order_no", "status", "merchant", "terminal", "fault_type", "priority", "agent_name",
        "branch", "sla_due_at", "overdue", "created_at",
    )
    list_filter = ("status", "priority", "fault_type", "source", "branch")
    list_select_related = ("merchant", "terminal", "branch")
    search_fields = ("service_order_no", "terminal__serial_number", "terminal__tag_number", "merchant__name")
    date_hierarchy = "created_at"
    # Status, numbering and ownership are written only by repairs.workflow.
    readonly_fields = (
        "service_order_no", "status", "terminal", "merchant", "agent", "agent_name", "branch", "version",
        "status_changed_at", "created_at", "updated_at", "closed_at", "reported_by", "sla_due_at",
        "allowed_next", "portal_link",
    )
    fields = (
        ("service_order_no", "status", "version"), "portal_link", "allowed_next", ("terminal", "merchant"),
        ("fault_type", "priority", "source"), "symptoms", "contact_window", ("agent", "agent_name"),
        "branch", "reported_by", "sla_due_at", ("created_at", "updated_at", "status_changed_at", "closed_at"),
    )
    inlines = [TicketEventInline, NetworkTestInline, TicketCommentInline]

    def has_add_permission(self, request):
        return False  # tickets are opened through the portal or the API (numbering, terminal status)

    def has_delete_permission(self, request, obj=None):
        return False  # service-order numbers are never reused; a ticket is cancelled, not deleted

    @admin.display(boolean=True, description=_("overdue"))
    def overdue(self, obj):
        return obj.is_overdue

    @admin.display(description=_("possible next states"))
    def allowed_next(self, obj):
        names = [f"{t.target} ({', '.join(sorted(t.roles))})" for t in workflow.MACHINE.leaving(obj.status)]
        return ", ".join(names) or "—"

    @admin.display(description=_("portal page"))
    def portal_link(self, obj):
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), _("Open the ticket page to change its state"))


@admin.register(RepairRequest)
class RepairRequestAdmin(admin.ModelAdmin):
    list_display = ("form_number", "ticket", "branch", "engineer", "pickup_attempts", "picked_up_at", "created_at")
    list_select_related = ("ticket", "branch", "engineer")
    search_fields = ("form_number", "ticket__service_order_no")
    readonly_fields = ("ticket", "branch", "form_number", "engineer", "picked_up_at", "created_at")
    exclude = ("pickup_code",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TicketAttachment)
class TicketAttachmentAdmin(admin.ModelAdmin):
    list_display = ("ticket", "original_name", "content_type", "size", "is_public", "uploaded_by", "created_at")
    list_select_related = ("ticket", "uploaded_by")
    readonly_fields = ("ticket", "file", "content_type", "original_name", "size", "uploaded_by", "created_at")


@admin.register(Satisfaction)
class SatisfactionAdmin(admin.ModelAdmin):
    list_display = ("ticket", "rating", "rated_by", "created_at")
    list_filter = ("rating",)
    search_fields = ("ticket__service_order_no",)
    raw_id_fields = ("ticket", "rated_by")
    readonly_fields = ("ticket", "rating", "comment", "rated_by", "created_at")

    def has_add_permission(self, request):
        # Ratings come from merchants on the ticket page, never typed in by staff.
        return False


@admin.register(DropoffCapacity)
class DropoffCapacityAdmin(admin.ModelAdmin):
    list_display = ["branch", "opens_at", "closes_at", "seats"]
    list_select_related = ["branch"]


@admin.register(BranchClosure)
class BranchClosureAdmin(admin.ModelAdmin):
    list_display = ["branch", "date", "reason"]
    list_filter = ["branch"]
    list_select_related = ["branch"]
    date_hierarchy = "date"


@admin.register(DropoffBooking)
class DropoffBookingAdmin(admin.ModelAdmin):
    list_display = ["ticket", "branch", "starts_at", "status", "booked_by"]
    list_filter = ["status", "branch"]
    list_select_related = ["ticket", "branch", "booked_by"]
    date_hierarchy = "starts_at"

    # Bookings change only through repairs.dropoff (the seat count is checked there, locked).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
