"""The home-page dashboards: each block is one or two aggregate queries of the domain apps'
selectors, whatever the size, drawn as charts and short lists."""

from django.conf import settings
from django.utils.translation import gettext as _

from applications import selectors as applications
from insights import charts
from notifications import delivery
from notifications import selectors as notifications
from repairs import selectors as repairs
from terminals import selectors as terminals

LIST_SIZE = 5
# The reviewers' queue: what waits for a reviewer, and how long it has waited in its status.
QUEUE_STATUSES = ("submitted", "needs_info", "under_review", "inspection", "approved", "contract_signed",
                  "device_assigned")
OLDEST_STATUSES = ("submitted", "under_review", "needs_info", "inspection")
AGE_BUCKETS = (
    ("lt1", 0, 1),
    ("d1_3", 1, 3),
    ("d3_7", 3, 7),
    ("gt7", 7, None),
)


# --- merchant ------------------------------------------------------------------------------


def terminals_by_status(user):
    """The merchant's terminals counted by status, with the chart of those counts."""
    counts = terminals.status_counts(user)
    rows = [{"code": code, "label": str(label), "count": counts[code]}
            for code, label in terminals.status_labels().items() if counts.get(code)]
    return {
        "rows": rows,
        "total": sum(counts.values()),
        "chart": charts.bar_chart([(r["label"], r["count"]) for r in rows], title=_("My terminals by status"),
                                  label_width=110, width=360),
    }


def latest_notifications(user):
    """The user's latest in-app notifications, each with its subject in the user's language."""
    language = getattr(user, "language", None)
    latest = notifications.latest(user, LIST_SIZE)
    return [(n, preview["subject"]) for n, preview in zip(latest, delivery.render_previews(latest, language),
                                                           strict=True)]


def merchant_dashboard(user):
    """Every card of a merchant's home page, built once per request: six queries whatever the data."""
    return {
        "terminals": terminals_by_status(user),
        "tickets": repairs.merchant_open_tickets(user, LIST_SIZE),
        "care": terminals.care_reminders(user),
        "loaners": repairs.loaner_notices(user),
        "applications": applications.merchant_in_progress(user, LIST_SIZE),
        "notifications": latest_notifications(user),
        "paper_roll_days": settings.PAPER_ROLL_DAYS,
    }


# --- staff ---------------------------------------------------------------------------------


def engineer_dashboard(user, pickup_days=None):
    """The branch's devices by stage and those waiting for pickup too long."""
    pickup_days = pickup_days or settings.PICKUP_WAIT_DAYS
    overview = repairs.branch_overview(user, pickup_days=pickup_days)
    return {
        "branch": user.branch,
        **overview,
        "chart": charts.bar_chart(
            [(s["label"], s["count"]) for s in overview["stages"]], title=_("Devices at my branch by stage"),
            width=440,
        ),
        "pickup_days": pickup_days,
    }


def reviewer_dashboard(user):
    """The application queue by status and by how long each has waited in that status."""
    rows = applications.queue_by_age(QUEUE_STATUSES, AGE_BUCKETS)
    labels = applications.status_labels()
    empty = {"total": 0, **{key: 0 for key, _l, _h in AGE_BUCKETS}}
    queue = [{"code": s, "label": labels[s], **{k: rows.get(s, empty)[k] for k in empty}} for s in QUEUE_STATUSES]
    bucket_labels = {"lt1": _("under 1 day"), "d1_3": _("1–3 days"), "d3_7": _("3–7 days"), "gt7": _("over 7 days")}
    chart = charts.stacked_bar_chart(
        [q["label"] for q in queue],
        [(bucket_labels[key], [q[key] for q in queue]) for key, _l, _h in AGE_BUCKETS],
        title=_("Application queue by status and age"),
    )
    return {
        "queue": queue,
        "bucket_labels": [bucket_labels[key] for key, _l, _h in AGE_BUCKETS],
        "bucket_keys": [key for key, _l, _h in AGE_BUCKETS],
        "chart": chart,
        "oldest": applications.oldest_waiting(OLDEST_STATUSES, LIST_SIZE),
        "total": sum(q["total"] for q in queue),
    }


def staff_dashboard(user, pickup_days=None):
    data = {}
    if user.is_agent or user.is_admin_role:
        data["agent"] = repairs.agent_overview(user, LIST_SIZE)
    if user.is_engineer and user.branch_id:
        data["engineer"] = engineer_dashboard(user, pickup_days)
    if user.is_reviewer_or_admin:
        data["reviewer"] = reviewer_dashboard(user)
    if user.is_admin_role:
        data["tickets_chart"] = charts.bar_chart(repairs.open_ticket_counts(), title=_("Open tickets by status"))
    return data
