"""What other areas offer on a ticket's page, e.g. the replacement application of an unrepairable
terminal: a registry, so that this area needs to know nothing of theirs.

An area registers `panel(ticket, user, request) -> str` (HTML, or "" when it has nothing to offer) with
`@ticket_panel("name")`, in its AppConfig.ready(); the ticket page shows every panel above the
ticket's own next steps. `request` is there for a panel with a form (its CSRF token).
"""

from django.utils.safestring import mark_safe

TICKET_PANELS = {}


def ticket_panel(name):
    def register(func):
        TICKET_PANELS[name] = func
        return func

    return register


def render_panels(ticket, user, request=None):
    html = "".join(panel(ticket, user, request) for panel in TICKET_PANELS.values())
    return mark_safe(html)  # noqa: S308 - each panel renders its own auto-escaping template
