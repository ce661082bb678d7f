"""Writes on accounts and organisations."""

from django.db import transaction

from portal.accounts.models import MerchantDocument


@transaction.atomic
def add_merchant_document(*, merchant, kind, uploaded, content_type, actor):
    """Store a checked upload as the merchant's current document of that kind."""
    return MerchantDocument.objects.create(
        merchant=merchant,
        kind=kind,
        file=uploaded,
        content_type=content_type,
        original_name=uploaded.name[:255],
        size=uploaded.size,
        uploaded_by=actor,
    )


def set_language(*, user, language):
    user.language = language
    user.save(update_fields=["language"])


PROFILE_FIELDS = ("first_name", "last_name", "email", "phone", "language")


def update_profile(*, user, **fields):
    """Save the user's own contact details and language (checked by ProfileForm)."""
    for name in PROFILE_FIELDS:
        if name in fields:
            setattr(user, name, fields[name])
    user.save(update_fields=[name for name in PROFILE_FIELDS if name in fields])
    return user
