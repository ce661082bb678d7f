from django import template

from terminals import selectors

register = template.Library()


@register.inclusion_tag("terminals/_merchant_summary.html", takes_context=True)
def my_terminals_summary(context):
    """The "My terminals" card of a merchant's home page."""
    user = context["request"].user
    terminals = list(selectors.merchant_terminals(user)[:5])
    for terminal in terminals:
        terminal.care = selectors.care_status(terminal)
    return {"summary": selectors.merchant_summary(user), "terminals": terminals}
