from django.contrib import admin

from insights.models import Satisfaction


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
