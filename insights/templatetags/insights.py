"""Template tags of the insights area: dashboards, the stage stepper, tracking QR codes, ratings.

    {% load insights %}
    {% tracking_qr ticket %}          QR code of the ticket's /track/ link (printable receipts)
    {% ticket_stepper ticket %}       remote diagnosis → branch → test → pickup / replacement
    {% satisfaction_panel ticket %}   the merchant's 1–5 rating form, or the rating given
    {% staff_insights as dash %}      data of the staff dashboard blocks
"""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from insights import dashboards
from insights.qr import qr_svg, tracking_url
from insights.stages import ticket_steps

register = template.Library()


@register.simple_tag(takes_context=True)
def tracking_qr(context, ticket, scale=3):
    """An inline SVG QR code of the public tracking link, with the link printed under it."""
    url = tracking_url(context.get("request"), ticket)
    svg = qr_svg(url, title=_("Track service order %(no)s") % {"no": ticket.service_order_no}, scale=scale)
    return format_html(
        '<figure class="tracking-qr-figure text-center mb-0" data-testid="tracking-qr">{}'
        '<figcaption class="small">{}<br><span class="font-monospace text-break">{}</span></figcaption></figure>',
        svg,
        _("Scan to follow this repair"),
        url,
    )


@register.inclusion_tag("insights/_stepper.html")
def ticket_stepper(ticket, previous_status=None):
    return {"steps": ticket_steps(ticket.status, previous_status)}


@register.inclusion_tag("insights/_satisfaction.html", takes_context=True)
def satisfaction_panel(context, ticket):
    from insights.forms import SatisfactionForm
    from insights.models import Satisfaction
    from insights.services import can_rate

    request = context.get("request")
    user = getattr(request, "user", None)
    rating = Satisfaction.objects.filter(ticket_id=ticket.pk).first()
    return {
        "ticket": ticket,
        "rating": rating,
        "can_rate": rating is None and user is not None and can_rate(ticket, user),
        "form": SatisfactionForm(),
        "error": context.get("error", ""),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


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
