from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from notifications import services
from notifications.models import Notification, NotificationPreference, WebhookSubscriber, WechatBinding


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "recipient",
        "subscriber",
        "channel",
        "status",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["event_key", "recipient__username"]
    raw_id_fields = ["recipient", "subscriber"]
    list_select_related = ["recipient", "subscriber"]
    date_hierarchy = "created_at"
    readonly_fields = ["claimed_by", "claimed_at", "created_at", "provider_message_id"]
    actions = ["retry_failed"]

    @admin.action(description=_("Retry the selected failed deliveries"))
    def retry_failed(self, request, queryset):
        count = sum(services.retry(n) for n in queryset.filter(status=Notification.Status.FAILED))
        self.message_user(
            request, _("%(count)s deliveries queued again.") % {"count": count}, messages.SUCCESS
        )


@admin.register(WebhookSubscriber)
class WebhookSubscriberAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "is_active", "created_at"]
    list_filter = ["is_active"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "quiet_start", "quiet_end", "updated_at"]
    raw_id_fields = ["user"]


@admin.register(WechatBinding)
class WechatBindingAdmin(admin.ModelAdmin):
    list_display = ["user", "openid", "bound_at", "disabled_at"]
    search_fields = ["user__username", "openid"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["openid", "bound_at"]
