"""The role-aware navigation of the layout: a registry each app adds its sections to.

An app registers its entries from its AppConfig.ready(): (url name, label, Bootstrap icon, the
roles that see it, position); the layout shows them by position. On a wide screen the bar shows at
most ROW_ITEMS sections, so that it keeps to one row at 1280 px in either language; the rest go
under "More": first those registered `more=True` (used less often), then the last ones.
"""

from dataclasses import dataclass
from functools import lru_cache

from django.urls import reverse

from portal.core.workflow import role_of

ROW_ITEMS = 6


@dataclass(frozen=True)
class Entry:
    name: str
    label: str
    icon: str
    roles: tuple
    position: int
    more: bool


NAV = {}


def register(name, label, icon, roles, *, position, more=False):
    """Show the page `name` (a url name) in the navigation to `roles`, at `position`; `more`: under
    "More" on a wide screen when the bar is full."""
    NAV[name] = Entry(name, label, icon, tuple(roles), position, more)


def nav_for(user):
    """The sections `user` sees, as (items, those of them under "More")."""
    if not user.is_authenticated:
        return (), ()
    return _nav(role_of(user))


@lru_cache(maxsize=16)
def _nav(role):
    """One per role: the registry is filled once, at start-up (each AppConfig.ready); the labels are
    lazy, translated where the layout shows them."""
    entries = sorted((e for e in NAV.values() if role in e.roles), key=lambda e: e.position)
    items = [{"name": e.name, "url": reverse(e.name), "label": e.label, "icon": e.icon, "more": False}
             for e in entries]
    if len(items) > ROW_ITEMS:
        less_used = {e.name for e in entries if e.more}
        for item in items:
            item["more"] = item["name"] in less_used
        inline = [item for item in items if not item["more"]]
        for item in inline[ROW_ITEMS:]:
            item["more"] = True
    return tuple(items), tuple(item for item in items if item["more"])
