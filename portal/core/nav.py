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
    ("terminals:mine", _("My terminals"), "credit-card", ("merchant",)),
    ("terminals:list", _("Terminals"), "credit-card-2-front", STAFF),
    ("terminals:import", _("Import"), "upload", ("reviewer", "admin")),
    ("tickets:list", _("Fault tickets"), "tools", ALL),
    ("tickets:log_call", _("Log a call"), "telephone-inbound", ("agent", "admin")),
    ("applications:list", _("Applications"), "file-earmark-plus", ("merchant",)),
    ("applications:queue", _("Review queue"), "clipboard-check", ("reviewer", "admin")),
    ("insights:search", _("Search"), "search", STAFF),
    ("insights:reports", _("Reports"), "bar-chart-line", ("reviewer", "admin")),
    ("notifications:inbox", _("Notifications"), "bell", ALL),
    ("notifications:log", _("Delivery log"), "send-check", ("reviewer", "admin")),
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
