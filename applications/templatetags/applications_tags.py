"""The reviewers' panel of the applications area, included in the staff home page, and the
merchant dashboard's applications in progress."""

from django import template

from applications import selectors
from applications.models import Application
from portal.core.fragments import render_rows

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


@register.simple_tag
def merchant_application_items(rows):
    """The merchant dashboard's applications in progress (selectors.merchant_in_progress), each
    rendered once per content: its number, kind, channel, status and deposit progress."""
    def shown(row):
        a, deposit = row["application"], row["deposit"]
        progress = deposit and (deposit["percent"], deposit["eligible"], deposit["expired"], deposit["deadline"])
        return (a.number, a.kind, a.channel.name, a.status, progress)

    return render_rows("applications/_merchant_panel_item.html", rows, shown, name="row")
