"""Dashboard panels of the applications area, included in the home pages."""

from django import template

from applications import selectors
from applications.models import Application

register = template.Library()


@register.inclusion_tag("applications/_merchant_panel.html", takes_context=True)
def merchant_applications(context):
    """The merchant's applications still in progress, and deposits still counting."""
    user = context["request"].user
    recent = _merchant_rows(user)
    progress = selectors.deposits_progress(recent)
    return {"rows": [{"application": a, "deposit": progress.get(a.pk)} for a in recent], "user": user}


def _merchant_rows(user):
    qs = selectors.applications_for(user).exclude(
        status__in=(Application.Status.REJECTED, Application.Status.WITHDRAWN)
    )
    # In progress, or activated with a deposit still counting toward its refund.
    return [a for a in qs[:10] if a.status != Application.Status.ACTIVATED or _counting(a)][:5]


def _counting(application):
    account = getattr(application, "deposit", None)  # the reverse one-to-one raises AttributeError
    return account is not None and not account.refunded


@register.inclusion_tag("applications/_staff_panel.html", takes_context=True)
def review_summary(context):
    user = context["request"].user
    if not (user.is_superuser or user.role in ("reviewer", "admin")):
        return {"show": False}
    counts = selectors.queue_counts(user)
    return {
        "show": True,
        "counts": [(code, Application.Status(code).label, counts.get(code, 0))
                   for code in (Application.Status.SUBMITTED, Application.Status.UNDER_REVIEW,
                                Application.Status.INSPECTION, Application.Status.APPROVED,
                                Application.Status.CONTRACT_SIGNED, Application.Status.DEVICE_ASSIGNED,
                                Application.Status.NEEDS_INFO)],
    }
