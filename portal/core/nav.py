"""The role-aware navigation of the layout: a registry each app adds its sections to.

An app registers its entries from its AppConfig.ready(): (url name, label, Bootstrap icon, the
roles that see it, position); the layout shows them by position.
"""

from dataclasses import dataclass

from django.urls import reverse

from portal.core.workflow import role_of


@dataclass(frozen=True)
class Entry:
    name: str
    label: str
    icon: str
    roles: tuple
    position: int


NAV = {}


def register(name, label, icon, roles, *, position):
    """Show the page `name` (a url name) in the navigation to `roles`, at `position`."""
    NAV[name] = Entry(name, label, icon, tuple(roles), position)


def nav_for(user):
    if not user.is_authenticated:
        return []
    role = role_of(user)
    entries = sorted((e for e in NAV.values() if role in e.roles), key=lambda e: e.position)
    return [{"name": e.name, "url": reverse(e.name), "label": e.label, "icon": e.icon} for e in entries]
