"""The role-aware navigation: one table, read by the layout.

Each entry: (url name, label, Bootstrap icon, roles that see it). Apps add their entries here.
"""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

ALL = ("merchant", "agent", "engineer", "reviewer", "admin")
STAFF = ("agent", "engineer", "reviewer", "admin")

NAV = [
    ("home", _("Home"), "house", ALL),
    ("accounts:merchants", _("Merchants"), "shop", STAFF),
    ("accounts:branches", _("Branches"), "building", ALL),
]


def nav_for(user):
    if not user.is_authenticated:
        return []
    role = "admin" if user.is_superuser else user.role
    items = []
    for name, label, icon, roles in NAV:
        if role not in roles:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"name": name, "url": url, "label": label, "icon": icon})
    return items
