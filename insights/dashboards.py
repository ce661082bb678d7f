"""Reads behind the home-page dashboards: each block is one or two aggregate queries, whatever the size."""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from insights import charts
from insights.stages import ticket_steps
from terminals.models import Terminal
from terminals.selectors import care_reminders

LIST_SIZE = 5
IN_SERVICE = (Terminal.Status.ACTIVE, Terminal.Status.FAULTY, Terminal.Status.IN_REPAIR)
BRANCH_STAGES = ("awaiting_branch", "at_branch", "diagnosing", "repairing", "network_testing", "ready_for_pickup")
QUEUE_STATUSES = ("submitted", "needs_info", "under_review", "inspection", "approved", "contract_signed",
                  "device_assigned")
AGE_BUCKETS = (
    ("lt1", 0, 1),
    ("d1_3", 1, 3),
    ("d3_7", 3, 7),
    ("gt7", 7, None),
)


def _start_of_today():
    return timezone.make_aware(datetime.combine(timezone.localdate(), time.min))


# --- merchant ------------------------------------------------------------------------------


def terminals_by_status(user):
    """The merchant's terminals counted by status, with the chart of those counts."""
    counts = dict(Terminal.objects.visible_to(user).values_list("status").annotate(n=Count("pk")).order_by())
    rows = [{"code": code, "label": str(label), "count": counts[code]}
            for code, label in Terminal.Status.choices if counts.get(code)]
    return {
        "rows": rows,
        "total": sum(counts.values()),
        "chart": charts.bar_chart([(r["label"], r["count"]) for r in rows], title=_("My terminals by status"),
                                  label_width=110, width=360),
    }


def open_tickets(user):
    """The merchant's latest open tickets, each with its stage stepper."""
    from repairs.models import FaultTicket

    tickets = list(
        FaultTicket.objects.visible_to(user)
        .open()
        .select_related("terminal", "branch")
        .order_by("-created_at", "-pk")[:LIST_SIZE]
    )
    for ticket in tickets:
        ticket.steps = ticket_steps(ticket.status)
    return tickets


def latest_notifications(user):
    """The user's latest in-app notifications, each with its subject in the user's language."""
    from notifications import delivery, selectors

    language = getattr(user, "language", None)
    return [(n, delivery.render_subject(n, language)) for n in selectors.inbox(user)[:LIST_SIZE]]


def merchant_dashboard(user):
    """Every card of a merchant's home page, built once per request: five queries whatever the data."""
    from applications.selectors import merchant_in_progress

    return {
        "terminals": terminals_by_status(user),
        "tickets": open_tickets(user),
        "care": care_reminders(user),
        "applications": merchant_in_progress(user, LIST_SIZE),
        "notifications": latest_notifications(user),
        "paper_roll_days": settings.PAPER_ROLL_DAYS,
    }


# --- staff ---------------------------------------------------------------------------------


def agent_dashboard(user):
    """New, mine and overdue tickets and today's calls: one aggregate and three short lists."""
    from repairs.models import FaultTicket

    now = timezone.now()
    today = _start_of_today()
    S = FaultTicket.Status
    open_q = ~Q(status__in=FaultTicket.FINAL_STATUSES)
    overdue_q = Q(status__in=FaultTicket.SLA_STATUSES, sla_due_at__lt=now)
    calls_q = Q(source=FaultTicket.Source.PHONE, created_at__gte=today)
    # The WHERE clause lets PostgreSQL combine the (status), (agent, status), (sla_due_at) and
    # (created_at) indexes instead of reading every ticket ever reported.
    relevant = Q(status=S.REPORTED) | (Q(agent=user) & open_q) | overdue_q | calls_q
    counts = FaultTicket.objects.filter(relevant).aggregate(
        new=Count("pk", filter=Q(status=S.REPORTED)),
        mine=Count("pk", filter=open_q & Q(agent=user)),
        overdue=Count("pk", filter=overdue_q),
        calls_today=Count("pk", filter=calls_q),
        my_calls_today=Count("pk", filter=calls_q & Q(reported_by=user)),
    )
    base = FaultTicket.objects.select_related("terminal", "merchant")
    return {
        "counts": counts,
        "new": list(base.filter(status=S.REPORTED).order_by("created_at", "pk")[:LIST_SIZE]),
        "overdue": list(base.filter(overdue_q).order_by("sla_due_at", "pk")[:LIST_SIZE]),
        "calls": list(base.filter(calls_q).order_by("-created_at", "-pk")[:LIST_SIZE]),
    }


def engineer_dashboard(user, pickup_days=None):
    """The branch's devices by stage and those waiting for pickup too long."""
    from repairs.models import FaultTicket

    pickup_days = pickup_days or settings.PICKUP_WAIT_DAYS
    cutoff = timezone.now() - timedelta(days=pickup_days)
    rows = dict(
        FaultTicket.objects.filter(branch_id=user.branch_id, status__in=BRANCH_STAGES)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    labels = dict(FaultTicket.Status.choices)
    stages = [{"code": s, "label": labels[s], "count": rows.get(s, 0)} for s in BRANCH_STAGES]
    waiting = FaultTicket.objects.filter(
        branch_id=user.branch_id, status=FaultTicket.Status.READY_FOR_PICKUP, status_changed_at__lt=cutoff
    )
    return {
        "branch": user.branch,
        "stages": stages,
        "chart": charts.bar_chart(
            [(s["label"], s["count"]) for s in stages], title=_("Devices at my branch by stage"), width=440
        ),
        "pickup_days": pickup_days,
        "waiting": list(waiting.select_related("terminal", "merchant").order_by("status_changed_at", "pk")[:10]),
        "waiting_count": waiting.count(),
    }


def reviewer_dashboard(user):
    """The application queue by status and by how long each has waited in that status."""
    from applications.models import Application

    now = timezone.now()
    aggregates = {"total": Count("pk")}
    for key, low, high in AGE_BUCKETS:
        cond = Q(status_changed_at__lte=now - timedelta(days=low))
        if high is not None:
            cond &= Q(status_changed_at__gt=now - timedelta(days=high))
        aggregates[key] = Count("pk", filter=cond)
    rows = {
        r["status"]: r
        for r in Application.objects.filter(status__in=QUEUE_STATUSES)
        .values("status")
        .annotate(**aggregates)
        .order_by()
    }
    labels = dict(Application.Status.choices)
    empty = {"total": 0, **{key: 0 for key, _l, _h in AGE_BUCKETS}}
    queue = [{"code": s, "label": labels[s], **{k: rows.get(s, empty)[k] for k in empty}} for s in QUEUE_STATUSES]
    bucket_labels = {"lt1": _("under 1 day"), "d1_3": _("1–3 days"), "d3_7": _("3–7 days"), "gt7": _("over 7 days")}
    chart = charts.stacked_bar_chart(
        [q["label"] for q in queue],
        [(bucket_labels[key], [q[key] for q in queue]) for key, _l, _h in AGE_BUCKETS],
        title=_("Application queue by status and age"),
    )
    oldest = list(
        Application.objects.filter(status__in=("submitted", "under_review", "needs_info", "inspection"))
        .select_related("merchant", "channel")
        .order_by("status_changed_at", "pk")[:LIST_SIZE]
    )
    return {
        "queue": queue,
        "bucket_labels": [bucket_labels[key] for key, _l, _h in AGE_BUCKETS],
        "bucket_keys": [key for key, _l, _h in AGE_BUCKETS],
        "chart": chart,
        "oldest": oldest,
        "total": sum(q["total"] for q in queue),
    }


def tickets_by_status():
    """Every ticket not closed, by status (the administrator's overview)."""
    from repairs.models import FaultTicket

    open_statuses = [code for code in FaultTicket.Status.values if code not in FaultTicket.FINAL_STATUSES]
    rows = dict(
        FaultTicket.objects.filter(status__in=open_statuses).values_list("status").annotate(n=Count("pk")).order_by()
    )
    data = [(label, rows[code]) for code, label in FaultTicket.Status.choices if rows.get(code)]
    return charts.bar_chart(data, title=_("Open tickets by status"))


def staff_dashboard(user, pickup_days=None):
    data = {}
    if user.is_agent or user.is_admin_role:
        data["agent"] = agent_dashboard(user)
    if user.is_engineer and user.branch_id:
        data["engineer"] = engineer_dashboard(user, pickup_days)
    if user.is_reviewer or user.is_admin_role:
        data["reviewer"] = reviewer_dashboard(user)
    if user.is_admin_role:
        data["tickets_chart"] = tickets_by_status()
    return data
