"""Reads shared by the application pages and the API."""

from datetime import timedelta

from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from applications.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    DepositAccount,
    MonthlyVolume,
)
from applications.workflow import current_documents, deposit_progress, with_counted_volume
from portal.core.querysets import built_once
from repairs.models import FaultTicket
from terminals.models import Terminal


def applications_for(user):
    """The user's applications (newest first) with what the lists show."""
    return (
        Application.objects.visible_to(user)
        .select_related("channel", "ticket", "deposit")
        .order_by("-created_at", "-pk")
    )


def review_queue(user, *, status="", channel="", kind=""):
    """The reviewers' queue: oldest submission first; by default everything still being handled."""
    qs = Application.objects.visible_to(user).select_related("merchant", "channel", "ticket", "reviewer")
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status__in=(*Application.FINAL_STATUSES, Application.Status.DRAFT))
    if channel:
        qs = qs.filter(channel__code=channel)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("submitted_at", "created_at", "pk")


def application_detail(user, number):
    """One application with its documents, terminals and timeline (merchants see public lines)."""
    events = ApplicationEvent.objects.select_related("actor").order_by("created_at", "pk")
    if not user.is_staff_role:
        events = events.filter(is_public=True)
    return (
        Application.objects.visible_to(user)
        .select_related("merchant", "channel", "ticket__terminal", "reviewer", "created_by")
        .prefetch_related(
            Prefetch("documents", queryset=ApplicationDocument.objects.select_related("verdict_by", "uploaded_by")),
            Prefetch("events", queryset=events),
            Prefetch("terminals", queryset=Terminal.objects.order_by("serial_number")),
        )
        .filter(number=number)
    )


def documents_by_kind(application):
    """Each required kind with its current document and earlier uploads (from the prefetch)."""
    docs = list(application.documents.all())
    current = current_documents(application, docs)
    return [
        {
            "kind": kind,
            "label": ApplicationDocument.Kind(kind).label,
            "document": current[kind],
            "history": [d for d in docs if d.kind == kind and d is not current[kind]],
        }
        for kind in current
    ]


def deposit_for(application):
    """The deposit account and its progress, or None."""
    try:
        account = application.deposit
    except DepositAccount.DoesNotExist:
        return None
    return {"account": account, **deposit_progress(account)}


def with_deposit_totals(applications):
    """`applications` each annotated with `deposit_total`, the volume counting toward its deposit's
    refund (in the same query: a list of any length shows its progress bars without more)."""
    return with_counted_volume(applications.select_related("deposit"), "deposit_total")


def deposit_progress_of(application):
    """The progress bar of an application from with_deposit_totals, or None without a deposit."""
    account = getattr(application, "deposit", None)  # a missing reverse one-to-one is an AttributeError
    return deposit_progress(account, application.deposit_total) if account is not None else None


def merchant_in_progress(user, limit=5):
    """A merchant's applications still in progress, and activated ones whose deposit is still
    counting toward its refund, each with that progress: one query whatever the data."""
    rows = _in_progress().visible_to(user)[:limit]
    return [{"application": a, "deposit": deposit_progress_of(a)} for a in rows]


@built_once
def _in_progress():
    S = Application.Status
    # only what the card shows (templates/applications/_merchant_panel.html and deposit_progress):
    # of the ~50 columns of three tables to compile and build objects of, these 8
    return (
        with_deposit_totals(Application.objects.select_related("channel"))
        .only("number", "kind", "status", "channel__name", "deposit__target", "deposit__deadline")
        .exclude(status__in=(S.REJECTED, S.WITHDRAWN))
        .filter(~Q(status=S.ACTIVATED) | Q(deposit__refunded=False))
        .order_by("-created_at", "-pk")
    )


def in_stock_terminals(application):
    """Terminals a reviewer may assign: in stock, of the application's channel, not issued elsewhere."""
    return (
        Terminal.objects.filter(status=Terminal.Status.IN_STOCK, channel_id=application.channel_id)
        .filter(Q(merchant__isnull=True) | Q(merchant_id=application.merchant_id))
        .order_by("serial_number")
    )


def volumes_for(application):
    return (
        MonthlyVolume.objects.filter(terminal__applications=application)
        .select_related("terminal")
        .order_by("-month", "terminal__serial_number")
    )


def queue_counts(user):
    """Applications waiting for a reviewer, per status (the staff dashboard)."""
    rows = (
        Application.objects.visible_to(user)
        .exclude(status__in=(*Application.FINAL_STATUSES, Application.Status.DRAFT))
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


def replaceable_tickets(user):
    """The merchant's unrepairable tickets with no replacement application under way."""
    if not user.is_merchant:
        return FaultTicket.objects.none()
    pending = Application.objects.exclude(status__in=(Application.Status.REJECTED, Application.Status.WITHDRAWN))
    return (
        FaultTicket.objects.visible_to(user)
        .filter(status__in=(FaultTicket.Status.UNREPAIRABLE, FaultTicket.Status.REPLACEMENT))
        .exclude(pk__in=pending.filter(ticket__isnull=False).values("ticket_id"))
        .select_related("terminal")
        .order_by("-updated_at")[:10]
    )


# --- for the dashboards and reports (insights reads applications only through these) --------


def status_labels():
    return dict(Application.Status.choices)


def queue_by_age(statuses, buckets, now=None):
    """Applications in `statuses` counted per status: the total and, per (key, low, high) of
    `buckets`, those that have waited in their status between low and high days (one query)."""
    now = now or timezone.now()
    aggregates = {"total": Count("pk")}
    for key, low, high in buckets:
        cond = Q(status_changed_at__lte=now - timedelta(days=low))
        if high is not None:
            cond &= Q(status_changed_at__gt=now - timedelta(days=high))
        aggregates[key] = Count("pk", filter=cond)
    return {
        r["status"]: r
        for r in Application.objects.filter(status__in=statuses).values("status").annotate(**aggregates).order_by()
    }


def oldest_waiting(statuses, limit):
    """The applications in `statuses` that have waited longest in their status."""
    return list(
        Application.objects.filter(status__in=statuses).select_related("merchant", "channel")
        .order_by("status_changed_at", "pk")[:limit]
    )


def submitted_between(since, until):
    """The applications submitted in [since, until)."""
    return Application.objects.filter(submitted_at__gte=since, submitted_at__lt=until)


def first_event_at(status):
    """A subquery: when the application (OuterRef "pk") first reached `status`."""
    return Subquery(
        ApplicationEvent.objects.filter(application=OuterRef("pk"), to_status=status)
        .order_by("created_at", "pk").values("created_at")[:1]
    )


def deposits_reaching_target(limit):
    """Unrefunded deposits whose counted volume (`volume`) has reached the target, as of today."""
    qs = (
        with_counted_volume(DepositAccount.objects.filter(refunded=False), "volume",
                            application="application", started_on="started_on", deadline="deadline")
        .filter(volume__gte=F("target"))
        .select_related("application__merchant", "application__channel")
        .order_by("deadline", "pk")
    )
    return list(qs[:limit])
