"""Repair and application reports over a date range, computed by the database.

Every figure is one aggregate query (annotate/aggregate, correlated subqueries on indexed columns);
Python only formats the handful of grouped rows that come back, never loops over tickets.

Definitions (shown on the page too):
- The tickets of a period are those *reported* in it (created_at from the start date 00:00 to the
  end date 24:00, China time).
- A ticket is *repaired* at its last move to `resolved_remotely` or `ready_for_pickup`; time to
  repair runs from its report to that moment. A ticket is *resolved* at its last move to one of
  those or to `unrepairable` (the bank's answer is in); SLA compliance compares that with
  `sla_due_at`. Reopened tickets get a fresh SLA clock and are judged by their last resolution.
- Time in a stage runs from the event that entered it to the next event of the ticket.
- Remote resolution: of the tickets whose remote diagnosis ended (resolved remotely or sent to a
  branch), those resolved remotely and never sent to a branch.
- Repeat faults: a terminal with more than one ticket in the period; a model's repeat faults are
  its tickets beyond the first per terminal.
- Applications of a period are those *submitted* in it; approved means approved or any later step.
- Deposits due for refund: unrefunded deposits whose counted card volume has reached the target,
  as of today (not limited to the period).
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from applications import selectors as applications_selectors
from insights import charts
from portal.accounts.models import Branch
from repairs import selectors as repairs
from terminals import selectors as terminals

REPAIRED = ("resolved_remotely", "ready_for_pickup")
RESOLVED = (*REPAIRED, "unrepairable")
APPROVED_OR_LATER = ("approved", "contract_signed", "device_assigned", "activated")
STAGE_ORDER = (
    "reported",
    "remote_diagnosis",
    "awaiting_branch",
    "at_branch",
    "diagnosing",
    "repairing",
    "network_testing",
    "ready_for_pickup",
    "resolved_remotely",
    "picked_up",
    "unrepairable",
    "replacement",
)


@dataclass
class Report:
    slug: str
    title: str
    columns: list  # [(key, label)]
    rows: list  # [dict]
    chart: str = ""
    note: str = ""
    extra: dict = field(default_factory=dict)

    def csv_rows(self):
        return [[row.get(key) for key, _label in self.columns] for row in self.rows]


@dataclass(frozen=True)
class Period:
    start: object  # date
    end: object  # date, inclusive
    # Figures shared by several reports of one page, computed once (see ticket_figures).
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def since(self):
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self):
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def days(self):
        return (self.end - self.start).days + 1


def _hours(value):
    """A duration from the database (timedelta, or microseconds on SQLite) as hours, 1 decimal."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    else:
        seconds = float(value) / 1_000_000
    return round(seconds / 3600, 1)


def _days(value):
    hours = _hours(value)
    return None if hours is None else round(hours / 24, 1)


def _pct(part, whole):
    return round(100 * part / whole, 1) if whole else None


def _fmt_hours(value):
    return _("%(h).1f h") % {"h": value}


def _duration(later, earlier):
    return ExpressionWrapper(later - earlier, output_field=DurationField())


# --- tickets --------------------------------------------------------------------------------


def _tickets(period):
    return repairs.reported_between(period.since, period.until)


def _facts(period):
    """The period's tickets, one row each, with what their events say (repairs.selectors)."""
    return repairs.ticket_facts(period.since, period.until, repaired=REPAIRED, resolved=RESOLVED)


def _grouped(qs, field, keys, metrics):
    """`metrics` per value of `field`, in ONE aggregate query (conditional aggregation).

    `qs` may carry aggregate or window annotations: Django then aggregates over it as a subquery,
    which is how per-ticket facts become per-branch figures without a Python loop over tickets.
    `metrics`: {name: (Aggregate class, expression, extra Q or None)}. Returns {key: {name: value}}.
    """
    exprs = {}
    for i, key in enumerate(keys):
        cond = Q(**{f"{field}__isnull": True}) if key is None else Q(**{field: key})
        for name, (aggregate, expression, extra) in metrics.items():
            exprs[f"{name}__{i}"] = aggregate(expression, filter=cond & extra if extra is not None else cond)
    values = qs.aggregate(**exprs) if exprs else {}
    return {key: {name: values[f"{name}__{i}"] for name in metrics} for i, key in enumerate(keys)}


def _branches():
    """[(pk or None, label)] of every branch, and None for tickets handled remotely (one query)."""
    rows = [(pk, f"{code} {name}") for pk, code, name in Branch.objects.order_by("code").values_list("pk", "code", "name")]
    return rows + [(None, _("Remote (no branch)"))]


def _branch_label(row, prefix="branch__"):
    if row[f"{prefix}code"] is None:
        return _("Remote (no branch)")
    return f"{row[f'{prefix}code']} {row[f'{prefix}name']}"


def _status_labels():
    return repairs.status_labels()


# The per-ticket figures of the page, summed per (branch, fault type) over the period's ticket
# facts. Django cannot GROUP BY over a subquery of aggregates, and conditional aggregation (one
# FILTER per branch and figure: ~330 of them) took 8 s for a year of 145,000 tickets; this takes
# under a second. Only comparisons and FILTER (PostgreSQL, and SQLite ≥ 3.30).
_PER_GROUP_SQL = """
SELECT facts.branch_id, facts.fault_type,
  COUNT(*),
  COUNT(*) FILTER (WHERE facts.repaired_at IS NOT NULL),
  SUM(facts.repair_time), COUNT(facts.repair_time),
  COUNT(*) FILTER (WHERE facts.went_remote > 0 AND facts.went_branch = 0),
  COUNT(*) FILTER (WHERE facts.went_branch > 0),
  COUNT(*) FILTER (WHERE {due} AND facts.resolved_at <= facts.sla_due_at),
  COUNT(*) FILTER (WHERE {due} AND (facts.resolved_at > facts.sla_due_at
                                    OR (facts.resolved_at IS NULL AND facts.sla_due_at < %s))),
  COUNT(*) FILTER (WHERE {due} AND facts.resolved_at IS NULL AND facts.sla_due_at >= %s)
FROM ({facts}) facts
GROUP BY facts.branch_id, facts.fault_type
"""
_COUNTS = ("reported", "repaired", "remote", "branch", "met", "breached", "running")


def ticket_figures(period):
    """Every per-ticket figure of the page in ONE query over the period's ticket facts: the
    headline numbers, and per branch and per fault type what the reports below show."""
    if "tickets" in period.memo:
        return period.memo["tickets"]
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    branches = _branches()
    fault_labels = _fault_labels()
    facts = (
        _facts(period)
        .annotate(repair_time=_duration(F("repaired_at"), F("created_at")))
        .values("branch_id", "fault_type", "status", "sla_due_at", "repaired_at", "resolved_at", "went_remote",
                "went_branch", "repair_time")
        .order_by()
    )
    facts_sql, params = facts.query.sql_with_params()
    due = "facts.sla_due_at IS NOT NULL AND facts.status <> 'cancelled'"
    with connection.cursor() as cursor:
        cursor.execute(_PER_GROUP_SQL.format(due=due, facts=facts_sql), (now, now, *params))
        groups = cursor.fetchall()

    def blank():
        return {**dict.fromkeys(_COUNTS, 0), "time": None, "timed": 0}

    total, by_branch, by_fault = blank(), {pk: blank() for pk, _label in branches}, {f: blank() for f in fault_labels}
    for branch_id, fault_type, reported, repaired, time_sum, timed, remote, branch, met, breached, running in groups:
        counts = dict(zip(_COUNTS, (reported, repaired, remote, branch, met, breached, running), strict=True))
        for into in (total, by_branch.setdefault(branch_id, blank()), by_fault.setdefault(fault_type, blank())):
            for name, value in counts.items():
                into[name] += value
            if timed:
                into["time"] = time_sum if into["time"] is None else into["time"] + time_sum
                into["timed"] += timed

    def mean(figures):
        return figures["time"] / figures["timed"] if figures["timed"] else None

    result = {
        "total": {**{name: total[name] for name in _COUNTS}, "mean": mean(total)},
        "by_branch": {
            key: {"repaired": f["repaired"], "mean": mean(f), "met": f["met"], "breached": f["breached"],
                  "running": f["running"]}
            for key, f in by_branch.items()
        },
        "by_fault": {key: {"remote": f["remote"], "branch": f["branch"]} for key, f in by_fault.items()},
        "branches": branches,
        "fault_labels": fault_labels,
    }
    period.memo["tickets"] = result
    return result


def summary(period):
    """Headline figures of the period."""
    t = ticket_figures(period)["total"]
    ratings = repairs.ratings_between(period.since, period.until).aggregate(
        n=Count("pk"), avg=Avg("rating")
    )
    apps = application_totals(period)
    return {
        "reported": t["reported"],
        "repaired": t["repaired"],
        "mttr_hours": _hours(t["mean"]),
        "sla_compliance": _pct(t["met"], t["met"] + t["breached"]),
        "remote_rate": _pct(t["remote"], t["remote"] + t["branch"]),
        "ratings": ratings["n"],
        "rating_avg": round(ratings["avg"], 2) if ratings["avg"] is not None else None,
        "approval_rate": apps["rate"],
    }


def daily_volume(period):
    """Tickets reported and repaired per day (a line chart)."""
    tz = timezone.get_current_timezone()
    reported = dict(
        _tickets(period)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values_list("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    repaired = dict(
        repairs.events_between(period.since, period.until, to_status=REPAIRED)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values_list("day")
        .annotate(n=Count("ticket_id", distinct=True))
        .values_list("day", "n")
    )
    days = [period.start + timedelta(days=i) for i in range(period.days)]
    rows = [{"day": d.isoformat(), "reported": reported.get(d, 0), "repaired": repaired.get(d, 0)} for d in days]
    chart = charts.line_chart(
        [r["day"][5:] for r in rows],
        [(_("Reported"), [r["reported"] for r in rows]), (_("Repaired"), [r["repaired"] for r in rows])],
        title=_("Tickets reported and repaired per day"),
    )
    return Report(
        "daily",
        _("Tickets per day"),
        [("day", _("Day")), ("reported", _("Reported")), ("repaired", _("Repaired"))],
        rows,
        chart,
    )


def mttr_by_stage(period):
    """Mean time spent in each stage: from the event that entered it to the ticket's next event."""
    events = repairs.stage_events(period.since, period.until)
    stages = list(STAGE_ORDER)
    figures = _grouped(
        events,
        "to_status",
        stages,
        {
            "tickets": (partial(Count, distinct=True), "ticket_id", None),
            "mean": (Avg, _duration(F("next_at"), F("created_at")), None),
        },
    )
    labels = _status_labels()
    out = [
        {
            "stage": str(labels.get(status, status)),
            "code": status,
            "tickets": figures[status]["tickets"],
            "mean_hours": _hours(figures[status]["mean"]),
        }
        for status in stages
        if figures[status]["tickets"]
    ]
    chart = charts.bar_chart(
        [(r["stage"], r["mean_hours"]) for r in out if r["mean_hours"] is not None],
        title=_("Mean hours in each stage"),
        value_format=_fmt_hours,
    )
    return Report(
        "mttr-stage",
        _("Mean time in each stage"),
        [("stage", _("Stage")), ("code", _("Code")), ("tickets", _("Tickets")), ("mean_hours", _("Mean hours"))],
        out,
        chart,
        _("From entering the stage to the ticket's next step; stages still open are not counted."),
    )


def mttr_by_branch(period):
    figures = ticket_figures(period)
    out = [
        {"branch": label, "repaired": f["repaired"], "mean_hours": _hours(f["mean"])}
        for pk, label in figures["branches"]
        if (f := figures["by_branch"][pk])["repaired"]
    ]
    chart = charts.bar_chart(
        [(r["branch"], r["mean_hours"]) for r in out], title=_("Mean hours to repair by branch"),
        value_format=_fmt_hours,
    )
    return Report(
        "mttr-branch",
        _("Mean time to repair by branch"),
        [("branch", _("Branch")), ("repaired", _("Repaired")), ("mean_hours", _("Mean hours to repair"))],
        out,
        chart,
        _("From the report to the last repair (resolved remotely or network test passed)."),
    )


def _fault_labels():
    return repairs.fault_type_labels()


def remote_resolution(period):
    figures = ticket_figures(period)
    labels = figures["fault_labels"]
    by_fault = figures["by_fault"]
    out = [
        {
            "fault_type": str(labels[code]),
            "remote": f["remote"],
            "branch": f["branch"],
            "rate": _pct(f["remote"], f["remote"] + f["branch"]),
        }
        for code, f in by_fault.items()
        if f["remote"] + f["branch"]
    ]
    remote, branch = sum(r["remote"] for r in out), sum(r["branch"] for r in out)
    totals = {"remote": remote, "branch": branch, "rate": _pct(remote, remote + branch)}
    chart = charts.stacked_bar_chart(
        [r["fault_type"] for r in out],
        [(_("Resolved remotely"), [r["remote"] for r in out]), (_("Sent to a branch"), [r["branch"] for r in out])],
        title=_("Remote resolution by fault type"),
    )
    return Report(
        "remote",
        _("Remote-resolution rate"),
        [
            ("fault_type", _("Fault type")),
            ("remote", _("Resolved remotely")),
            ("branch", _("Sent to a branch")),
            ("rate", _("Remote-resolution rate (%)")),
        ],
        out,
        chart,
        _("Of the tickets whose remote diagnosis ended, those resolved remotely and never sent to a branch."),
        {"totals": totals},
    )


def fault_types(period):
    rows = _tickets(period).values("fault_type").annotate(n=Count("pk")).order_by("-n", "fault_type")
    labels = _fault_labels()
    total = sum(r["n"] for r in rows)
    out = [
        {"fault_type": str(labels.get(r["fault_type"], r["fault_type"])), "tickets": r["n"], "share": _pct(r["n"], total)}
        for r in rows
    ]
    chart = charts.bar_chart([(r["fault_type"], r["tickets"]) for r in out], title=_("Tickets by fault type"))
    return Report(
        "fault-types",
        _("Tickets by fault type"),
        [("fault_type", _("Fault type")), ("tickets", _("Tickets")), ("share", _("Share (%)"))],
        out,
        chart,
    )


def terminal_models(period):
    rows = (
        _tickets(period)
        .values("terminal__model")
        .annotate(tickets=Count("pk"), terminals=Count("terminal_id", distinct=True))
        .order_by("-tickets", "terminal__model")
    )
    out = [
        {
            "model": r["terminal__model"],
            "tickets": r["tickets"],
            "terminals": r["terminals"],
            "repeat_faults": r["tickets"] - r["terminals"],
        }
        for r in rows
    ]
    chart = charts.stacked_bar_chart(
        [r["model"] for r in out],
        [(_("First faults"), [r["terminals"] for r in out]), (_("Repeat faults"), [r["repeat_faults"] for r in out])],
        title=_("Tickets by terminal model"),
    )
    return Report(
        "models",
        _("Tickets by terminal model"),
        [
            ("model", _("Model")),
            ("tickets", _("Tickets")),
            ("terminals", _("Terminals")),
            ("repeat_faults", _("Repeat faults")),
        ],
        out,
        chart,
        _("Repeat faults: a model's tickets beyond the first per terminal in the period."),
    )


def repeat_terminals(period, limit=50):
    rows = (
        _tickets(period)
        .values("terminal__serial_number", "terminal__model", "terminal__merchant__name")
        .annotate(tickets=Count("pk"))
        .filter(tickets__gt=1)
        .order_by("-tickets", "terminal__serial_number")[:limit]
    )
    out = [
        {
            "serial_number": r["terminal__serial_number"],
            "model": r["terminal__model"],
            "merchant": r["terminal__merchant__name"] or "",
            "tickets": r["tickets"],
        }
        for r in rows
    ]
    chart = charts.bar_chart(
        [(r["serial_number"], r["tickets"]) for r in out[:15]],
        title=_("Terminals with repeat faults"),
        color=charts.PALETTE[4],
    )
    return Report(
        "repeat-terminals",
        _("Terminals with repeat faults"),
        [
            ("serial_number", _("Terminal number")),
            ("model", _("Model")),
            ("merchant", _("Merchant")),
            ("tickets", _("Tickets")),
        ],
        out,
        chart,
        _("Terminals with more than one ticket reported in the period (at most %(n)s shown).") % {"n": limit},
    )


def sla_by_branch(period):
    figures = ticket_figures(period)
    out = [
        {
            "branch": label,
            "met": f["met"],
            "breached": f["breached"],
            "running": f["running"],
            "compliance": _pct(f["met"], f["met"] + f["breached"]),
        }
        for pk, label in figures["branches"]
        if (f := figures["by_branch"][pk])["met"] + f["breached"] + f["running"]
    ]
    chart = charts.stacked_bar_chart(
        [r["branch"] for r in out],
        [(_("Within SLA"), [r["met"] for r in out]), (_("SLA breached"), [r["breached"] for r in out])],
        title=_("SLA compliance by branch"),
    )
    return Report(
        "sla",
        _("SLA compliance by branch"),
        [
            ("branch", _("Branch")),
            ("met", _("Within SLA")),
            ("breached", _("SLA breached")),
            ("running", _("Clock still running")),
            ("compliance", _("Compliance (%)")),
        ],
        out,
        chart,
        _("Resolved (repaired or found unrepairable) by the SLA due time; open tickets past due count as breached."),
    )


def satisfaction_by_branch(period):
    rows = (
        repairs.ratings_between(period.since, period.until)
        .values("ticket__branch__code", "ticket__branch__name")
        .annotate(
            ratings=Count("pk"),
            mean=Avg("rating"),
            **{f"r{i}": Count("pk", filter=Q(rating=i)) for i in range(1, 6)},
        )
        .order_by("ticket__branch__code")
    )
    out = [
        {
            "branch": _branch_label(r, "ticket__branch__"),
            "ratings": r["ratings"],
            "mean": round(r["mean"], 2),
            **{f"r{i}": r[f"r{i}"] for i in range(1, 6)},
        }
        for r in rows
    ]
    chart = charts.stacked_bar_chart(
        [r["branch"] for r in out],
        [(_("%(n)s stars") % {"n": i}, [r[f"r{i}"] for r in out]) for i in range(5, 0, -1)],
        title=_("Merchant satisfaction by branch"),
    )
    return Report(
        "satisfaction",
        _("Merchant satisfaction by branch"),
        [("branch", _("Branch")), ("ratings", _("Ratings")), ("mean", _("Mean rating (1–5)"))]
        + [(f"r{i}", _("%(n)s stars") % {"n": i}) for i in range(5, 0, -1)],
        out,
        chart,
        _("Ratings given by merchants in the period when closing their tickets."),
    )


# --- applications ---------------------------------------------------------------------------


def _applications(period):
    return applications_selectors.submitted_between(period.since, period.until)


def _first_app_event_at(status):
    return applications_selectors.first_event_at(status)


def application_totals(period):
    t = _applications(period).aggregate(
        approved=Count("pk", filter=Q(status__in=APPROVED_OR_LATER)),
        rejected=Count("pk", filter=Q(status="rejected")),
    )
    return {**t, "rate": _pct(t["approved"], t["approved"] + t["rejected"])}


def applications(period):
    rows = (
        _applications(period)
        .annotate(approved_at=_first_app_event_at("approved"), activated_at=_first_app_event_at("activated"))
        .values("channel__code", "channel__name")
        .annotate(
            submitted=Count("pk"),
            approved=Count("pk", filter=Q(status__in=APPROVED_OR_LATER)),
            rejected=Count("pk", filter=Q(status="rejected")),
            withdrawn=Count("pk", filter=Q(status="withdrawn")),
            to_approval=Avg(_duration(F("approved_at"), F("submitted_at"))),
            to_activation=Avg(_duration(F("activated_at"), F("submitted_at"))),
        )
        .order_by("channel__code")
    )
    out = [
        {
            "channel": f"{r['channel__code']} {r['channel__name']}",
            "submitted": r["submitted"],
            "approved": r["approved"],
            "rejected": r["rejected"],
            "pending": r["submitted"] - r["approved"] - r["rejected"] - r["withdrawn"],
            "withdrawn": r["withdrawn"],
            "approval_rate": _pct(r["approved"], r["approved"] + r["rejected"]),
            "days_to_approval": _days(r["to_approval"]),
            "days_to_activation": _days(r["to_activation"]),
        }
        for r in rows
    ]
    chart = charts.stacked_bar_chart(
        [r["channel"] for r in out],
        [
            (_("Approved"), [r["approved"] for r in out]),
            (_("Rejected"), [r["rejected"] for r in out]),
            (_("In review"), [r["pending"] for r in out]),
            (_("Withdrawn"), [r["withdrawn"] for r in out]),
        ],
        title=_("Applications by channel"),
    )
    return Report(
        "applications",
        _("Application approval rate and lead time"),
        [
            ("channel", _("Channel")),
            ("submitted", _("Submitted")),
            ("approved", _("Approved")),
            ("rejected", _("Rejected")),
            ("pending", _("In review")),
            ("withdrawn", _("Withdrawn")),
            ("approval_rate", _("Approval rate (%)")),
            ("days_to_approval", _("Mean days to approval")),
            ("days_to_activation", _("Mean days to activation")),
        ],
        out,
        chart,
        _("Applications submitted in the period; approval rate = approved / (approved + rejected)."),
    )


def deposits_due(period=None, limit=200):
    """Unrefunded deposits whose counted volume has reached the target (as of today)."""
    accounts = applications_selectors.deposits_reaching_target(limit)
    out = [
        {
            "application": a.application.number,
            "merchant": a.application.merchant.name,
            "channel": a.application.channel.code,
            "amount": a.amount,
            "volume": a.volume,
            "target": a.target,
            "deadline": a.deadline.isoformat(),
            "eligible_on": a.eligible_on.isoformat() if a.eligible_on else "",
        }
        for a in accounts
    ]
    by_channel = {}
    for row in out:
        by_channel[row["channel"]] = by_channel.get(row["channel"], 0) + row["amount"]
    chart = charts.bar_chart(
        sorted(by_channel.items()), title=_("Deposits due for refund by channel (yuan)"), color=charts.PALETTE[2]
    )
    return Report(
        "deposits",
        _("Deposits due for refund"),
        [
            ("application", _("Application")),
            ("merchant", _("Merchant")),
            ("channel", _("Channel")),
            ("amount", _("Deposit (yuan)")),
            ("volume", _("Counted volume (yuan)")),
            ("target", _("Target (yuan)")),
            ("deadline", _("Deadline")),
            ("eligible_on", _("Eligible since")),
        ],
        out,
        chart,
        _("Not yet refunded, with the card volume counted toward the target already at or above it (as of today)."),
    )


# --- terminal health --------------------------------------------------------------------------

_HEALTH_SQL = """
SELECT facts.had_health, facts.firmware, COUNT(*),
  COUNT(*) FILTER (WHERE facts.went_remote > 0 AND facts.went_branch = 0),
  COUNT(*) FILTER (WHERE facts.went_branch > 0)
FROM ({facts}) facts
GROUP BY facts.had_health, facts.firmware
"""


def health_ticket_figures(period):
    """The period's tickets by (had health data, firmware then) in ONE query: reported, resolved
    remotely, sent to a branch (the remote-resolution definitions above)."""
    if "health" in period.memo:
        return period.memo["health"]
    facts = repairs.ticket_health_facts(period.since, period.until, repaired=REPAIRED, resolved=RESOLVED).values(
        "had_health", "firmware", "went_remote", "went_branch").order_by()
    sql, params = facts.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(_HEALTH_SQL.format(facts=sql), params)
        rows = [(bool(had), firmware or "", n, remote, branch) for had, firmware, n, remote, branch in cursor.fetchall()]
    period.memo["health"] = rows
    return rows


def remote_by_health(period):
    figures = {True: [0, 0, 0], False: [0, 0, 0]}
    for had, _firmware, n, remote, branch in health_ticket_figures(period):
        for i, value in enumerate((n, remote, branch)):
            figures[had][i] += value
    labels = {True: _("With health data"), False: _("Without health data")}
    out = [
        {"group": str(labels[had]), "tickets": n, "remote": remote, "branch": branch,
         "rate": _pct(remote, remote + branch)}
        for had, (n, remote, branch) in figures.items()
    ]
    chart = charts.stacked_bar_chart(
        [r["group"] for r in out],
        [(_("Resolved remotely"), [r["remote"] for r in out]), (_("Sent to a branch"), [r["branch"] for r in out])],
        title=_("Remote resolution with and without health data"),
    )
    return Report(
        "remote-health",
        _("Remote resolution with and without health data"),
        [("group", _("Tickets")), ("tickets", _("Reported")), ("remote", _("Resolved remotely")),
         ("branch", _("Sent to a branch")), ("rate", _("Remote-resolution rate (%)"))],
        out,
        chart,
        _("With health data: the terminal sent health reports in the %(days)s days before the ticket was reported.")
        % {"days": terminals.HEALTH_LOOKBACK_DAYS},
    )


def faults_by_error_code(period):
    rows = terminals.faults_by_error_code(period.since, period.until)
    chart = charts.bar_chart([(r["code"], r["reports"]) for r in rows], title=_("Health reports by error code"))
    return Report(
        "error-codes",
        _("Faults by error code"),
        [("code", _("Error code")), ("title", _("Title")), ("severity", _("Severity")),
         ("reports", _("Reports with the code")), ("terminals", _("Terminals"))],
        rows,
        chart,
        _("The terminals' health reports of the period (each report counted by its first error code)."),
    )


def faults_by_firmware(period):
    fleet = terminals.faults_by_firmware(period.since, period.until)
    tickets = {}
    for _had, firmware, n, _remote, _branch in health_ticket_figures(period):
        if firmware:
            tickets[firmware] = tickets.get(firmware, 0) + n
    out = []
    for version in sorted(set(fleet) | set(tickets)):
        f = fleet.get(version, {"terminals": 0, "error_reports": 0})
        out.append({"firmware": version, "terminals": f["terminals"], "error_reports": f["error_reports"],
                    "tickets": tickets.get(version, 0),
                    "per_100": round(100 * tickets.get(version, 0) / f["terminals"], 1) if f["terminals"] else None})
    chart = charts.bar_chart([(r["firmware"], r["tickets"]) for r in out], title=_("Tickets by firmware version"))
    return Report(
        "firmware",
        _("Faults by firmware version"),
        [("firmware", _("Firmware version")), ("terminals", _("Terminals reporting it")),
         ("error_reports", _("Reports with errors")), ("tickets", _("Tickets")),
         ("per_100", _("Tickets per 100 terminals"))],
        out,
        chart,
        _("A ticket counts under the firmware its terminal last reported before the ticket was reported."),
    )


REPORTS = {
    "daily": daily_volume,
    "mttr-stage": mttr_by_stage,
    "mttr-branch": mttr_by_branch,
    "remote": remote_resolution,
    "fault-types": fault_types,
    "models": terminal_models,
    "remote-health": remote_by_health,
    "error-codes": faults_by_error_code,
    "firmware": faults_by_firmware,
    "repeat-terminals": repeat_terminals,
    "sla": sla_by_branch,
    "satisfaction": satisfaction_by_branch,
    "applications": applications,
    "deposits": deposits_due,
}


def cache_seconds():
    return settings.REPORT_CACHE_SECONDS


def build_all(period):
    """(summary, [Report]) of the period, kept in the cache for a few minutes per language.

    Each figure is one aggregate query, but a year over 200,000 tickets still reads every one of
    their events; several reviewers opening the same page should not each pay for it.
    """
    key = f"insights:reports:v2:{get_language()}:{period.start:%Y%m%d}:{period.end:%Y%m%d}"
    ttl = cache_seconds()
    if ttl:
        cached = cache.get(key)
        if cached is not None:
            return cached
    result = (summary(period), [build(period) for build in REPORTS.values()])
    if ttl:
        cache.set(key, result, ttl)
    return result

