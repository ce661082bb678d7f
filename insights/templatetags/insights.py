"""Template tags of the insights area.

    {% load insights %}
    {% staff_insights as dash %}      data of the staff dashboard blocks
"""

from django import template

from insights import dashboards

register = template.Library()


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
