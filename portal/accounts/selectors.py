"""Reads shared by the account pages and the API."""

from django.db.models import Prefetch

from portal.accounts.models import Branch, Merchant, MerchantDocument, User


def document_checklist(merchant):
    """The three call documents with the latest file on record for each (or None)."""
    latest = {}
    for doc in MerchantDocument.objects.filter(merchant=merchant).order_by("kind", "-uploaded_at"):
        latest.setdefault(doc.kind, doc)
    return [
        {"kind": kind, "label": label, "document": latest.get(kind)}
        for kind, label in MerchantDocument.Kind.choices
    ]


def merchant_users(merchant):
    return User.objects.filter(merchant=merchant).order_by("-is_merchant_owner", "username")


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
