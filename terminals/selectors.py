"""Reads shared by the terminal pages and the API, each with the joins it needs."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.core.querysets import built_once
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
    today = timezone.localdate()
    terminals = list(_in_service_with_care_dates().visible_to(user)[:limit])
    for t in terminals:
        t.cleaning_due = care_due(MaintenanceRecord.Kind.CLEANING, t.last_cleaning_at, today)
        t.paper_roll_due = care_due(MaintenanceRecord.Kind.PAPER_ROLL, t.last_paper_roll_at, today)
    return terminals


@built_once
def _in_service_with_care_dates():
    return Terminal.objects.in_service().with_care_dates().only("serial_number").order_by("serial_number")


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


@dataclass
class HealthHour:
    start: datetime
    state: str  # "online", "offline" (no online report that hour) or "none" (no report)
    errors: int


@dataclass
class TerminalHealth:
    """A terminal's health over the last `days` days, for the health panel."""

    days: int
    latest: object = None  # the newest HealthReport, or None
    hours: list = field(default_factory=list)
    codes: list = field(default_factory=list)  # (ErrorCode or None, code, text, count), most frequent first

    @property
    def has_data(self):
        return self.latest is not None

    def count(self, state):
        return sum(1 for h in self.hours if h.state == state)

    @property
    def error_hours(self):
        return sum(1 for h in self.hours if h.errors)


def terminal_health(terminal, days=7, now=None):
    """Last seen, latest versions, an hourly online/offline/error timeline and the error codes of
    the last `days` days, explained from the code table (four queries at any number of reports)."""
    from datetime import timedelta

    from terminals.models import ErrorCode, HealthReport

    now = now or timezone.now()
    end = timezone.localtime(now).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    start = end - timedelta(days=days)
    reports = HealthReport.objects.filter(terminal=terminal)
    health = TerminalHealth(days=days, latest=reports.order_by("-reported_at").first())
    if health.latest is None:
        return health
    buckets = {}
    texts = {}
    counts = {}
    for at, online, errors in reports.filter(reported_at__gte=start, reported_at__lt=end).values_list(
        "reported_at", "online", "errors"
    ):
        index = int((at - start).total_seconds() // 3600)
        seen_online, n_errors = buckets.get(index, (False, 0))
        buckets[index] = (seen_online or online, n_errors + len(errors))
        for error in errors:
            counts[error["code"]] = counts.get(error["code"], 0) + 1
            texts.setdefault(error["code"], error.get("text", ""))
    for index in range(days * 24):
        online, n_errors = buckets.get(index, (None, 0))
        state = "none" if online is None else ("online" if online else "offline")
        health.hours.append(HealthHour(start + timedelta(hours=index), state, n_errors))
    known = {c.code: c for c in ErrorCode.objects.filter(code__in=counts)}
    health.codes = sorted(
        ((known.get(code), code, texts[code], n) for code, n in counts.items()), key=lambda c: (-c[3], c[1])
    )
    return health


def health_chart(health, width=504, height=40):
    """The inline SVG's bars: one per hour (x, width, colour class, has errors)."""
    if not health.hours:
        return []
    step = width / len(health.hours)
    return [
        {"x": round(n * step, 2), "w": round(step, 2), "state": h.state, "errors": h.errors, "start": h.start}
        for n, h in enumerate(health.hours)
    ]


def health_panel_context(terminal, *, days=7, resolve_url=None):
    """What templates/terminals/_health.html shows (the terminal page and the ticket page)."""
    health = terminal_health(terminal, days=days)
    return {
        "health": health,
        "chart": health_chart(health),
        "online_hours": health.count("online"),
        "offline_hours": health.count("offline"),
        "silent_hours": health.count("none"),
        "error_hours": health.error_hours,
        "resolve_url": resolve_url,
    }


# --- "Likely faulty": terminals the monitoring flags before the merchant calls --------------------


@dataclass
class Suspect:
    """A terminal the health reports flag: silent in business hours, or repeating a serious error."""

    terminal: Terminal
    last_online: datetime | None
    silent_hours: float  # business hours since the last online report
    error_code: str  # the serious code repeated most in the last day ("" if none)
    error_repeats: int

    @property
    def silent(self):
        from django.conf import settings

        return self.last_online is not None and self.silent_hours > settings.LIKELY_FAULTY_SILENT_HOURS

    @property
    def repeating(self):
        from django.conf import settings

        return bool(self.error_code) and self.error_repeats >= settings.LIKELY_FAULTY_REPEATS

    @property
    def reasons(self):
        reasons = []
        if self.silent:
            reasons.append(_("No online report for %(hours)s business hours") % {"hours": f"{self.silent_hours:.0f}"})
        if self.repeating:
            reasons.append(_("%(code)s reported %(n)s times in the last day")
                           % {"code": self.error_code, "n": self.error_repeats})
        return reasons


def business_hours_between(start, end, opens_at, closes_at):
    """Hours of [start, end) inside the daily window opens_at–closes_at, in the portal's time zone
    (Asia/Shanghai). A window that closes before it opens runs past midnight."""
    from datetime import timedelta

    from django.utils import timezone

    if start is None or end <= start:
        return 0.0
    start, end = timezone.localtime(start), timezone.localtime(end)
    total = 0.0
    day = start.date() - timedelta(days=1)
    while day <= end.date():
        open_at = timezone.make_aware(datetime.combine(day, opens_at))
        close_day = day if closes_at > opens_at else day + timedelta(days=1)
        close_at = timezone.make_aware(datetime.combine(close_day, closes_at))
        lo, hi = max(start, open_at), min(end, close_at)
        if hi > lo:
            total += (hi - lo).total_seconds() / 3600
        day += timedelta(days=1)
    return total


def likely_faulty(terminals, now=None):
    """The terminals of `terminals` (a queryset, e.g. without those that have an open ticket) in a
    merchant's service whose health reports flag them: no online report for more than
    LIKELY_FAULTY_SILENT_HOURS hours of the merchant's business hours, or one serious error code
    (ErrorCode.severity) reported at least LIKELY_FAULTY_REPEATS times in the last 24 hours.
    One query at any size; the list is ordered by serial number."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import OuterRef, Subquery
    from django.utils import timezone

    from terminals.models import ErrorCode, HealthReport

    now = now or timezone.now()
    serious = ErrorCode.objects.filter(severity=ErrorCode.Severity.SERIOUS).values("code")
    last_online = HealthReport.objects.filter(terminal=OuterRef("pk"), online=True).order_by("-reported_at")
    repeats = (
        HealthReport.objects.filter(terminal=OuterRef("pk"), reported_at__gte=now - timedelta(days=1),
                                    reported_at__lte=now, error_code__in=serious)
        .values("error_code").annotate(n=Count("pk")).order_by("-n", "error_code")
    )
    rows = (
        terminals.filter(merchant__isnull=False, status__in=[Terminal.Status.ACTIVE, Terminal.Status.FAULTY])
        .annotate(
            last_online=Subquery(last_online.values("reported_at")[:1]),
            worst_code=Subquery(repeats.values("error_code")[:1]),
            worst_repeats=Subquery(repeats.values("n")[:1]),
        )
        # Wall-clock hours bound business hours: only these can be silent long enough.
        .filter(Q(last_online__lt=now - timedelta(hours=settings.LIKELY_FAULTY_SILENT_HOURS))
                | Q(worst_repeats__gte=settings.LIKELY_FAULTY_REPEATS))
        .select_related("merchant", "home_branch")
        .order_by("serial_number")
    )
    suspects = []
    for terminal in rows:
        merchant = terminal.merchant
        suspect = Suspect(
            terminal=terminal, last_online=terminal.last_online,
            silent_hours=business_hours_between(terminal.last_online, now, merchant.opens_at, merchant.closes_at),
            error_code=terminal.worst_code or "", error_repeats=terminal.worst_repeats or 0,
        )
        if suspect.silent or suspect.repeating:
            suspects.append(suspect)
    return suspects


# --- Health figures for the reports (insights reads them through these) --------------------------

HEALTH_LOOKBACK_DAYS = 7  # what the health panel shows: "had health data" looks as far back


def had_health_data(terminal_ref, at_ref):
    """An expression: did the terminal `terminal_ref` send a health report in the
    HEALTH_LOOKBACK_DAYS days before `at_ref` (raw reports, or their daily summaries once gone)?"""
    from datetime import timedelta

    from django.db.models import DateTimeField, Exists, ExpressionWrapper, Value
    from django.db.models.functions import TruncDate

    from terminals.models import HealthDailySummary, HealthReport

    at = ExpressionWrapper(at_ref, output_field=DateTimeField())
    start = ExpressionWrapper(at_ref - Value(timedelta(days=HEALTH_LOOKBACK_DAYS)), output_field=DateTimeField())
    raw = HealthReport.objects.filter(terminal_id=terminal_ref, reported_at__lte=at, reported_at__gte=start)
    days = HealthDailySummary.objects.filter(terminal_id=terminal_ref, day__lte=TruncDate(at),
                                             day__gte=TruncDate(start))
    return Exists(raw) | Exists(days)


def _summarised_through():
    from django.db.models import Max

    from terminals.models import HealthDailySummary

    return HealthDailySummary.objects.aggregate(last=Max("day"))["last"]


def _health_sources(since, until):
    """(summaries, raw reports) covering [since, until) once each: the daily summaries up to the
    last summarised day, the raw reports after it."""
    from datetime import timedelta

    from django.utils import timezone

    from terminals.models import HealthDailySummary, HealthReport

    last = _summarised_through()
    raw_from = since
    summaries = None  # nothing summarised yet
    if last is not None:
        summaries = HealthDailySummary.objects.filter(
            day__gte=timezone.localtime(since).date(), day__lt=timezone.localtime(until).date(), day__lte=last)
        raw_from = max(since, timezone.make_aware(datetime.combine(last + timedelta(days=1), datetime.min.time())))
    raw = HealthReport.objects.filter(reported_at__gte=raw_from, reported_at__lt=until)
    return summaries, raw


def faults_by_error_code(since, until):
    """Per error code reported in [since, until): the reports carrying it and the terminals that
    reported it, with the code table's title and severity; most reported first (three queries)."""
    from django.db import connection

    from terminals.models import ErrorCode

    summaries, raw = _health_sources(since, until)
    counts, terminals = {}, {}
    for code, terminal_id, n in raw.exclude(error_code="").values_list("error_code", "terminal_id").annotate(
            n=Count("id")).order_by():
        counts[code] = counts.get(code, 0) + n
        terminals.setdefault(code, set()).add(terminal_id)
    if summaries is not None:
        sql, params = summaries.exclude(error_reports=0).values("terminal_id", "error_counts").query.sql_with_params()
        each = "jsonb_each_text" if connection.vendor == "postgresql" else "json_each"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT e.key, s.terminal_id, SUM(CAST(e.value AS INTEGER)) FROM ({sql}) s, "
                           f"{each}(s.error_counts) e GROUP BY e.key, s.terminal_id", params)
            for code, terminal_id, n in cursor.fetchall():
                counts[code] = counts.get(code, 0) + int(n)
                terminals.setdefault(code, set()).add(terminal_id)
    known = {c.code: c for c in ErrorCode.objects.filter(code__in=counts)}
    rows = [
        {"code": code, "title": known[code].title if code in known else "",
         "severity": known[code].get_severity_display() if code in known else "",
         "reports": n, "terminals": len(terminals[code])}
        for code, n in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r["reports"], r["code"]))


def firmware_at(terminal_ref, at_ref):
    """An expression: the firmware version the terminal last reported at or before `at_ref` (its
    raw reports, else the daily summaries once they are gone)."""
    from django.db.models import DateTimeField, ExpressionWrapper, Subquery
    from django.db.models.functions import Coalesce, TruncDate

    from terminals.models import HealthDailySummary, HealthReport

    at = ExpressionWrapper(at_ref, output_field=DateTimeField())
    raw = (HealthReport.objects.filter(terminal_id=terminal_ref, reported_at__lte=at)
           .exclude(firmware_version="").order_by("-reported_at").values("firmware_version")[:1])
    days = (HealthDailySummary.objects.filter(terminal_id=terminal_ref, day__lt=TruncDate(at))
            .exclude(firmware_version="").order_by("-day").values("firmware_version")[:1])
    return Coalesce(Subquery(raw), Subquery(days))


def faults_by_firmware(since, until):
    """Per firmware version reported in [since, until): the terminals reporting it and the reports
    with an error (three queries)."""
    summaries, raw = _health_sources(since, until)
    figures = {}
    for version, terminal_id, errors in raw.exclude(firmware_version="").values_list(
            "firmware_version", "terminal_id").annotate(n=Count("id", filter=~Q(error_code=""))).order_by():
        row = figures.setdefault(version, {"terminals": set(), "error_reports": 0})
        row["terminals"].add(terminal_id)
        row["error_reports"] += errors
    for version, terminal_id, errors in ([] if summaries is None else summaries.exclude(firmware_version="").values_list(
            "firmware_version", "terminal_id").annotate(n=Sum("error_reports")).order_by()):
        row = figures.setdefault(version, {"terminals": set(), "error_reports": 0})
        row["terminals"].add(terminal_id)
        row["error_reports"] += errors
    return {version: {"terminals": len(f["terminals"]), "error_reports": f["error_reports"]}
            for version, f in figures.items()}
