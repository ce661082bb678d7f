"""The reviewers' panel of the applications area, included in the staff home page."""

from django import template

from applications import selectors
from applications.models import Application

register = template.Library()


@register.inclusion_tag("applications/_staff_panel.html", takes_context=True)
def review_summary(context):
    user = context["request"].user
    if not user.is_reviewer_or_admin:
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
