from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import Branch, Channel, Merchant, MerchantDocument, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "get_full_name", "role", "merchant", "branch", "phone", "is_active")
    list_filter = ("role", "is_active", "language", "branch")
    list_select_related = ("merchant", "branch")
    search_fields = ("username", "first_name", "last_name", "email", "phone", "merchant__name")
    autocomplete_fields = ("merchant", "branch")
    fieldsets = DjangoUserAdmin.fieldsets + (
        (
            _("Portal"),
            {"fields": ("role", "phone", "language", "merchant", "is_merchant_owner", "branch")},
        ),
    )
    add_fieldsets = DjangoUserAdmin.add_fieldsets + (
        (_("Portal"), {"fields": ("role", "phone", "language", "merchant", "branch")}),
    )


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "city", "contact_name", "contact_phone", "business_hours")
    list_filter = ("city",)
    search_fields = ("name", "credit_code", "contact_name", "contact_phone")


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "city", "phone", "hours", "is_active")
    list_filter = ("city", "is_active")
    search_fields = ("code", "name", "address", "city")


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "licence_number", "phone", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "licence_number")


@admin.register(MerchantDocument)
class MerchantDocumentAdmin(admin.ModelAdmin):
    list_display = ("merchant", "kind", "original_name", "size", "uploaded_by", "uploaded_at")
    list_filter = ("kind",)
    list_select_related = ("merchant", "uploaded_by")
    search_fields = ("merchant__name", "original_name")
    readonly_fields = ("content_type", "size", "uploaded_by", "uploaded_at")
