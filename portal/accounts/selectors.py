"""Reads shared by the account pages and the API."""

from django.db.models import Prefetch

from portal.accounts.models import Branch, Merchant, MerchantDocument, User
from portal.core.cache import forget, read_through, shape_of

# A merchant's users and documents are on its home page (and the report and ticket pages show
# the documents) but change seldom: they are kept in the shared cache per merchant and forgotten
# by any save or delete of one of its users or documents (see connect), and a user moved to another
# merchant leaves the first one's list at once.
MERCHANT_CACHE_SECONDS = 300


def merchant_users_key(merchant_id):
    return f"accounts:merchant-users:{shape_of(User)}:{merchant_id}"


def merchant_documents_key(merchant_id):
    return f"accounts:merchant-documents:{shape_of(MerchantDocument)}:{merchant_id}"


def document_checklist(merchant):
    """The three call documents with the latest file on record for each (or None)."""
    documents = read_through(
        merchant_documents_key(merchant.pk),
        lambda: list(MerchantDocument.objects.filter(merchant=merchant).order_by("kind", "-uploaded_at")),
        MERCHANT_CACHE_SECONDS,
    )
    latest = {}
    for doc in documents:
        latest.setdefault(doc.kind, doc)
    return [
        {"kind": kind, "label": label, "document": latest.get(kind)}
        for kind, label in MerchantDocument.Kind.choices
    ]


def merchant_users(merchant):
    """The merchant's users, the owner first."""
    return read_through(
        merchant_users_key(merchant.pk),
        lambda: list(User.objects.filter(merchant=merchant).order_by("-is_merchant_owner", "username")),
        MERCHANT_CACHE_SECONDS,
    )


def merchants_for(user, *, q="", city=""):
    qs = Merchant.objects.visible_to(user).search(q)
    if city:
        qs = qs.filter(city=city)
    return qs


def branches_for(user):
    return Branch.objects.visible_to(user).filter(is_active=True)


def merchant_with_people(user, pk):
    return Merchant.objects.visible_to(user).prefetch_related(
        Prefetch("users", queryset=User.objects.order_by("-is_merchant_owner", "username"))
    ).filter(pk=pk)


def _user_saving(sender, instance, update_fields=None, **kwargs):
    """A user moved to another merchant: forget the list of the merchant they leave."""
    if instance._state.adding or (update_fields is not None and not {"merchant", "merchant_id"} & set(update_fields)):
        return
    before = User.objects.filter(pk=instance.pk).values_list("merchant_id", flat=True).first()
    if before is not None and before != instance.merchant_id:
        forget([merchant_users_key(before)])


def _user_changed(sender, instance, **kwargs):
    if instance.merchant_id is not None:
        forget([merchant_users_key(instance.merchant_id)])


def _document_changed(sender, instance, **kwargs):
    forget([merchant_documents_key(instance.merchant_id)])


def connect():
    from django.db.models.signals import post_delete, post_save, pre_save

    pre_save.connect(_user_saving, sender=User, dispatch_uid="forget-merchant-users-moved")
    for name, signal in (("saved", post_save), ("deleted", post_delete)):
        signal.connect(_user_changed, sender=User, dispatch_uid=f"forget-merchant-users-{name}")
        signal.connect(_document_changed, sender=MerchantDocument, dispatch_uid=f"forget-merchant-documents-{name}")
