"""Admin of terminals: details may be corrected, but the life of a terminal (status, owning
merchant, deregistration) changes only through terminals.services, from the staff pages."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from terminals import services
from terminals.models import (
    Deregistration,
    ErrorCode,
    ImportJob,
    MaintenanceRecord,
    TelemetrySource,
    Terminal,
    TerminalEvent,
)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TerminalEventInline(_ReadOnlyInline):
    model = TerminalEvent
    fields = ("created_at", "kind", "from_status", "to_status", "merchant", "actor", "note")
    readonly_fields = fields
    ordering = ("-created_at", "-pk")


class MaintenanceInline(_ReadOnlyInline):
    model = MaintenanceRecord
    fields = ("done_at", "kind", "done_by", "note")
    readonly_fields = fields


class DeregistrationInline(_ReadOnlyInline):
    model = Deregistration
    fields = ("date", "method", "certificate_number", "witness", "merchant", "recorded_by")
    readonly_fields = fields


@admin.register(Terminal)
class TerminalAdmin(admin.ModelAdmin):
    list_display = ("serial_number", "tag_number", "model", "channel", "merchant", "home_branch", "status", "tid")
    list_filter = ("status", "channel", "home_branch", "model")
    list_select_related = ("channel", "merchant", "home_branch")
    search_fields = ("serial_number", "tag_number", "tid", "mid", "merchant__name", "merchant__credit_code")
    # No cross-use: the owning merchant is never a form field here (issue and re-issue happen
    # through the services on the staff pages); status and dates follow the domain functions.
    readonly_fields = ("merchant", "status", "activated_on", "retired_on", "created_at", "updated_at")
    fields = (
        "serial_number", "tag_number", "model", "manufacturer", "channel", "home_branch", "tid", "mid",
        "merchant", "status", "activated_on", "retired_on", "created_at", "updated_at",
    )
    inlines = [DeregistrationInline, MaintenanceInline, TerminalEventInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            services.record_registration(terminal=obj, actor=request.user, note=str(_("Added in the admin")))

    def has_delete_permission(self, request, obj=None):
        return False  # a terminal's history is kept: it ends its life by deregistration


@admin.register(Deregistration)
class DeregistrationAdmin(admin.ModelAdmin):
    """View only: a deregistration is recorded once, through the staff pages or the API."""

    list_display = ("terminal", "method", "certificate_number", "witness", "date", "recorded_by")
    list_filter = ("method",)
    list_select_related = ("terminal", "recorded_by")
    search_fields = ("terminal__serial_number", "certificate_number", "witness")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MaintenanceRecord)
class MaintenanceRecordAdmin(admin.ModelAdmin):
    list_display = ("terminal", "kind", "done_by", "done_at")
    list_filter = ("kind",)
    list_select_related = ("terminal", "done_by")
    search_fields = ("terminal__serial_number",)
    readonly_fields = ("terminal", "done_by")

    def has_add_permission(self, request):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("pk", "original_name", "status", "total", "created_count", "present_count", "error_count", "created_by", "created_at")
    list_filter = ("status",)
    list_select_related = ("created_by",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TelemetrySource)
class TelemetrySourceAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("key", "name")


@admin.register(ErrorCode)
class ErrorCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "severity")
    list_filter = ("severity",)
    search_fields = ("code", "title", "explanation")
