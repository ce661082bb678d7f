"""Reads shared by the terminal pages and the API, each with the joins it needs."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from terminals.models import (
    Deregistration,
    ImportJob,
    MaintenanceRecord,
    Terminal,
    TerminalEvent,
    care_due,
)


def terminals_for(user):
    """The terminals `user` may see, with channel, merchant and branch joined."""
    return Terminal.objects.visible_to(user).with_related()


def merchant_terminals(user):
    """A merchant's own terminals with their last cleaning and paper-roll dates."""
    return terminals_for(user).with_care_dates().order_by("serial_number")


def terminal_detail(user, serial_number):
    """A queryset of the one terminal (for get_object_or_404), with its care dates."""
    return terminals_for(user).with_care_dates().filter(serial_number=serial_number)


def care_status(terminal, today=None):
    """Last cleaning and paper-roll change of an annotated terminal, and whether each is due."""
    out = []
    for kind, attr in (
        (MaintenanceRecord.Kind.CLEANING, "last_cleaning_at"),
        (MaintenanceRecord.Kind.PAPER_ROLL, "last_paper_roll_at"),
    ):
        last = getattr(terminal, attr, None)
        due = terminal.is_with_merchant and care_due(kind, last, today)
        out.append({"kind": kind, "label": MaintenanceRecord.Kind(kind).label, "last": last, "due": due})
    return out


def care_reminders(user, limit=20):
    """The user's terminals in service with their last cleaning and paper-roll change, and what is
    due (the merchant's dashboard): one query."""
    terminals = list(
        Terminal.objects.visible_to(user).in_service().with_care_dates().order_by("serial_number")[:limit]
    )
    for t in terminals:
        t.cleaning_due = care_due(MaintenanceRecord.Kind.CLEANING, t.last_cleaning_at)
        t.paper_roll_due = care_due(MaintenanceRecord.Kind.PAPER_ROLL, t.last_paper_roll_at)
    return terminals


def deregistrations_for(user, terminal):
    return Deregistration.objects.visible_to(user).filter(terminal=terminal).select_related("recorded_by")


def import_jobs_for(user):
    return ImportJob.objects.visible_to(user).select_related("created_by")


def export_rows(queryset):
    """Tuples for the CSV export, streamed from the database in chunks (no model instances)."""
    return queryset.order_by("serial_number").values_list(
        "serial_number", "tag_number", "model", "manufacturer", "channel__code",
        "merchant__credit_code", "home_branch__code", "tid", "mid", "merchant__name", "status",
        "activated_on", "retired_on",
    ).iterator(chunk_size=2000)


# --- The timeline ----------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "created", "status", "note", "maintenance", "ticket", …
    title: str
    detail: str = ""
    actor: str = ""
    icon: str = "circle"
    url: str = ""
    badge: str = ""
    extra: dict = field(default_factory=dict)


# name -> callable(terminal, user, limit) -> iterable of TimelineEntry. The apps above add their
# own entries with `@timeline_source("name")` from their AppConfig.ready() (the fault tickets'
# steps come from repairs); registering an existing name replaces that source.
TIMELINE_SOURCES = {}


def timeline_source(name):
    def register(func):
        TIMELINE_SOURCES[name] = func
        return func

    return register


@timeline_source("events")
def _event_entries(terminal, user, limit):
    events = TerminalEvent.objects.visible_to(user).filter(terminal=terminal).select_related("actor")
    for e in events.order_by("-created_at", "-pk")[:limit]:
        if e.kind == TerminalEvent.Kind.CREATED:
            title = _("Registered (%(status)s)") % {"status": e.get_to_status_display()}
            icon = "plus-circle"
        elif e.kind == TerminalEvent.Kind.NOTE:
            title, icon = _("Note"), "chat-left-text"
        else:
            title = _("%(from)s → %(to)s") % {
                "from": e.get_from_status_display(),
                "to": e.get_to_status_display(),
            }
            icon = "arrow-right-circle"
        yield TimelineEntry(
            at=e.created_at,
            kind=e.kind,
            title=title,
            detail=e.note,
            actor=e.actor.display_name if e.actor else _("System"),
            icon=icon,
            badge=Terminal.STATUS_BADGES.get(e.to_status, ""),
        )


@timeline_source("maintenance")
def _maintenance_entries(terminal, user, limit):
    icons = {"cleaning": "stars", "paper_roll": "receipt", "inspection": "clipboard-check"}
    records = MaintenanceRecord.objects.visible_to(user).filter(terminal=terminal).select_related("done_by")
    for m in records.order_by("-done_at", "-pk")[:limit]:
        yield TimelineEntry(
            at=m.done_at,
            kind="maintenance",
            title=m.get_kind_display(),
            detail=m.note,
            actor=m.done_by.display_name,
            icon=icons.get(m.kind, "tools"),
        )


def terminal_timeline(terminal, user, limit=100):
    """The terminal's whole life as `user` may see it, newest first: its events, maintenance
    records and what the apps above register (one query per source, whatever the length)."""
    entries = []
    for source in TIMELINE_SOURCES.values():
        entries.extend(source(terminal, user, limit) or ())
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


# --- API ---------------------------------------------------------------------------------------


def api_terminals(user):
    """Terminals for the API, as `user` may see them."""
    return terminals_for(user).order_by("serial_number")


# What the apps above add to a terminal's API detail, by field name: name -> callable(terminal,
# user) -> JSON-ready value. Fault tickets are the repairs app's: it fills "tickets" (the
# terminal's tickets, newest first, as the user may see them) from its AppConfig.ready().
DETAIL_SOURCES = {}


def detail_source(name):
    def register(func):
        DETAIL_SOURCES[name] = func
        return func

    return register


# --- for the dashboards and the search (insights reads terminals only through these) --------


def status_counts(user):
    """{status: count} of the terminals `user` may see (one GROUP BY)."""
    return dict(Terminal.objects.visible_to(user).values_list("status").annotate(n=Count("pk")).order_by())


def status_labels():
    return dict(Terminal.Status.choices)


def find_terminals(user, q, limit):
    """Terminals whose serial, tag, TID or MID is exactly `q` (as typed or upper-case)."""
    variants = {q, q.upper()}
    match = Q(serial_number__in=variants) | Q(tag_number__in=variants) | Q(tid__in=variants) | Q(mid__in=variants)
    qs = Terminal.objects.visible_to(user).filter(match).select_related("merchant")
    return list(qs.order_by("serial_number")[:limit])
