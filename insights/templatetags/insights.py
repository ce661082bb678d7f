"""Template tags of the insights area.

    {% load insights %}
    {% staff_insights as dash %}      data of the staff dashboard blocks
    {% care_rows dash.care %}         the merchant's care reminders, each row rendered once per content
"""

from django import template

from insights import dashboards
from portal.core.fragments import render_rows

register = template.Library()


@register.simple_tag
def care_rows(terminals):
    """The merchant dashboard's care reminders (terminals.selectors.care_reminders), each row
    rendered once per content: the terminal, its last cleaning and paper roll, and what is due."""
    return render_rows(
        "insights/_merchant_care_row.html", terminals,
        lambda t: (t.serial_number, t.last_cleaning_at, t.cleaning_due, t.last_paper_roll_at, t.paper_roll_due),
        name="t",
    )


@register.simple_tag(takes_context=True)
def staff_insights(context):
    request = context["request"]
    if not (request.user.is_authenticated and request.user.is_staff_role):
        return {}
    try:
        days = int(request.GET.get("pickup_days", ""))
    except ValueError:
        days = None
    days = min(max(days, 1), 90) if days else None
    return dashboards.staff_dashboard(request.user, pickup_days=days)
