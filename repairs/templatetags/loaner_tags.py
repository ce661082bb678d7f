"""`{% loaner_panel ticket %}`: the ticket page's loaner panel (repairs.loan_views), with the
request so its forms carry the CSRF token."""

from django import template

from repairs.loan_views import loaner_panel as render_panel

register = template.Library()


@register.simple_tag(takes_context=True)
def loaner_panel(context, ticket):
    return render_panel(context["request"], ticket)
