"""Reads shared by the ticket pages, the API and the dashboards; each with its joins, so a page's
query count does not grow with the number of tickets."""

from collections import namedtuple
from datetime import datetime, time, timedelta

from django.db.models import Case, Count, F, IntegerField, Max, OuterRef, Prefetch, Q, Value, When, Window
from django.db.models.functions import Lead
from django.utils import timezone

from portal.accounts.models import Branch, Merchant
from portal.core.querysets import built_once
from repairs import loans
from repairs.models import (
    FaultTicket,
    NetworkTest,
    RepairRequest,
    Satisfaction,
    SlaClock,
    TicketAttachment,
    TicketComment,
    TicketEvent,
)
from terminals import selectors as terminal_selectors

S = FaultTicket.Status

OPEN_STATUS_VALUES = frozenset(S.values) - set(FaultTicket.FINAL_STATUSES)


def visible_tickets(user):
    return FaultTicket.objects.visible_to(user).select_related("terminal", "merchant", "branch", "agent")


def queue(user, name="", *, status="", q="", now=None):
    """The tickets of one queue for `user`: merchant (open/all), agent (new/mine/overdue/open/all),
    engineer (their branch, by stage)."""
    qs = visible_tickets(user)  # an engineer's: its branch's (the visibility rule)
    if user.is_engineer:
        if status in FaultTicket.BRANCH_STATUSES:
            qs = qs.filter(status=status)
        elif name == "overdue":
            qs = qs.overdue(now)
        elif name != "all":
            qs = qs.filter(status__in=FaultTicket.BRANCH_STATUSES)
    elif user.is_merchant:
        if name != "all":
            qs = qs.open()
    else:
        if name == "new":
            qs = qs.filter(status=S.REPORTED)
        elif name == "mine":
            qs = qs.open().filter(agent=user)
        elif name == "overdue":
            qs = qs.overdue(now)
        elif name == "open" and status not in OPEN_STATUS_VALUES:
            # (an open status filter below says it already; both together make PostgreSQL expect a
            # few rows and sort them all instead of walking the (status, created_at) index)
            qs = qs.open()
        if status in S.values:
            qs = qs.filter(status=status)
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(service_order_no__iexact=q) | Q(terminal__serial_number__iexact=q)
            | Q(terminal__tag_number__iexact=q) | Q(merchant__name__icontains=q)
        )
    if name == "overdue" or (name == "new" and not user.is_merchant):
        return qs.order_by("sla_due_at", "pk")
    return qs.order_by("-created_at", "-pk")


# What a row of a ticket table shows (templates/repairs/_ticket_row.html): a list reads these
# columns as tuples, not a ticket, terminal, merchant and branch object per row.
ROW_COLUMNS = {
    "pk": "pk", "service_order_no": "service_order_no", "status": "status", "sla_due_at": "sla_due_at",
    "created_at": "created_at", "fault_type": "fault_type", "priority": "priority", "agent_name": "agent_name",
    "serial_number": "terminal__serial_number", "merchant_name": "merchant__name", "branch_code": "branch__code",
}


class TicketRow(SlaClock, namedtuple("TicketRowColumns", ROW_COLUMNS)):
    """One row of a ticket table."""

    __slots__ = ()


def rows(qs):
    """A queue as a ticket table needs it: column tuples, in the order of TicketRow's fields."""
    return qs.values_list(*ROW_COLUMNS.values())


def queue_counts(user, now=None):
    """Counts for the queues' tabs and the dashboards, in one query: the user's open tickets
    counted by status (with how many are overdue and, for an agent, theirs), summed here. (One
    aggregate of a COUNT FILTER per tab cost 3 ms of CPU to build and compile for 0.3 ms of running;
    counting by status costs half.)"""
    now = now or timezone.now()
    # Every count is of open tickets: say so, and the partial index of open tickets serves it
    # (a few thousand rows) instead of a scan of every ticket ever (55 ms at 200,000).
    mine = {} if user.is_engineer else {"mine": Count("pk", filter=Q(agent=user))}
    groups = (
        FaultTicket.objects.visible_to(user).open().order_by().values_list("status")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(sla_due_at__lt=now)), **mine)
    )
    by_status = {status: counts for status, *counts in groups}
    overdue = sum(counts[1] for status, counts in by_status.items() if status in FaultTicket.SLA_STATUSES)
    if user.is_engineer:
        counts = {"overdue": overdue}
        counts.update((stage, by_status.get(stage, (0,))[0]) for stage in FaultTicket.BRANCH_STATUSES)
        counts["stages"] = [(stage, S(stage).label, counts[stage]) for stage in FaultTicket.BRANCH_STATUSES]
        return counts
    return {
        "new": by_status.get(S.REPORTED, (0,))[0],
        "mine": sum(counts[2] for counts in by_status.values()),
        "overdue": overdue,
        "open": sum(counts[0] for counts in by_status.values()),
    }


@built_once
def _tickets_as_shown():
    # Only the joins the page shows: each more costs PostgreSQL planning time (8 joins: ~6 ms to plan
    # a 0.4 ms query at 200,000 tickets).
    return FaultTicket.objects.select_related("terminal", "merchant", "branch", "repair_request",
                                              "repair_request__engineer")


@built_once
def _tickets_with_page_flags():
    return _tickets_as_shown().with_page_flags()


def ticket_for(user, service_order_no):
    """One ticket as the detail page and the API need it (404 through get_object_or_404 if not visible)."""
    return _tickets_as_shown().visible_to(user).filter(service_order_no=service_order_no)


def ticket_page(user, service_order_no):
    """The ticket as its page shows it: `ticket_for` with the flags that let the page skip the
    queries for parts the ticket does not have (`FaultTicket.may_have`)."""
    return _tickets_with_page_flags().visible_to(user).filter(service_order_no=service_order_no)


def _name_columns(field):
    """The columns of a user that their name (`display_name`) is made of, through `field`."""
    return (field, *(f"{field}__{name}" for name in ("first_name", "last_name", "username")))


def timeline(ticket, user):
    """The ticket's events, comments and attachments merged oldest first; internal ones only for staff."""
    # Only what an entry shows (templates/repairs/_timeline_item.html): a person is their name.
    events = TicketEvent.objects.filter(ticket=ticket).select_related("actor").only(
        "from_status", "to_status", "note", "is_public", "created_at", *_name_columns("actor"))
    comments = TicketComment.objects.filter(ticket=ticket).select_related("author").only(
        "body", "is_public", "created_at", *_name_columns("author"))
    files = TicketAttachment.objects.filter(ticket=ticket).select_related("uploaded_by").only(
        "original_name", "size", "is_public", "created_at", *_name_columns("uploaded_by"))
    if not user.is_staff_role:
        events, comments, files = (x.filter(is_public=True) for x in (events, comments, files))
    if not ticket.may_have("comments"):
        comments = []
    if not ticket.may_have("files"):
        files = []
    items = [{"kind": "event", "at": e.created_at, "obj": e} for e in events]
    items += [{"kind": "comment", "at": c.created_at, "obj": c} for c in comments]
    items += [{"kind": "file", "at": f.created_at, "obj": f} for f in files]
    items.sort(key=lambda item: (item["at"], item["kind"] != "event"))
    return items


def public_events(ticket, user):
    qs = TicketEvent.objects.filter(ticket=ticket).select_related("actor")
    return qs if user.is_staff_role else qs.filter(is_public=True)


def network_tests(ticket):
    return NetworkTest.objects.filter(ticket=ticket).select_related("engineer")


def repair_request(ticket):
    return RepairRequest.objects.filter(ticket=ticket).select_related("branch", "engineer").first()


def branches_for_escalation(ticket):
    """Active branches, the merchant's own city first."""
    return Branch.objects.filter(is_active=True).annotate(
        elsewhere=Case(When(city=ticket.merchant.city, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("elsewhere", "city", "code")


def terminals_for_call(user, q):
    """Terminals in service found by merchant name or phone, or by terminal serial/tag (log-a-call intake)."""
    from terminals.models import Terminal

    q = (q or "").strip()
    if not q:
        return Terminal.objects.none()
    merchants = Merchant.objects.visible_to(user).search(q).values("pk")
    open_tickets = FaultTicket.objects.open()
    return (
        Terminal.objects.visible_to(user)
        .filter(Q(serial_number__iexact=q) | Q(tag_number__iexact=q) | Q(merchant__in=merchants))
        .filter(merchant__isnull=False)
        .select_related("merchant")
        .prefetch_related(Prefetch("tickets", queryset=open_tickets, to_attr="open_tickets"))
        .order_by("merchant__name", "serial_number")[:50]
    )


def reportable_terminals(user):
    """The merchant's terminals in service without an open ticket."""
    from terminals.models import Terminal

    return (
        Terminal.objects.visible_to(user)
        .filter(status__in=(Terminal.Status.ACTIVE, Terminal.Status.FAULTY))
        .exclude(tickets__in=FaultTicket.objects.open())
        .order_by("serial_number")
    )


def terminal_tickets(terminal, user):
    """The tickets of one terminal, newest first (for the terminal's page and the ticket page)."""
    return (
        FaultTicket.objects.visible_to(user).filter(terminal=terminal)
        .select_related("branch").order_by("-created_at", "-pk")
    )


# --- for the dashboards and reports (insights reads tickets only through these) -------------


def status_labels():
    return dict(S.choices)


def fault_type_labels():
    return dict(FaultTicket.FaultType.choices)


def merchant_open_tickets(user, limit):
    """The merchant's latest open tickets, each with its stage stepper (`steps`)."""
    from repairs.stages import ticket_steps

    tickets = list(_open_tickets_as_the_dashboard_shows().visible_to(user)[:limit])
    for ticket in tickets:
        ticket.steps = ticket_steps(ticket.status)
    return tickets


@built_once
def _open_tickets_as_the_dashboard_shows():
    # only what the card shows (templates/repairs/_merchant_dashboard.html): of the ~60 columns of
    # three tables to compile and build objects of, these 12
    return (
        FaultTicket.objects.open().select_related("terminal", "branch")
        .only("service_order_no", "status", "fault_type", "sla_due_at", "created_at", "terminal",
              "terminal__serial_number", "branch", "branch__name", "branch__address", "branch__hours")
        .order_by("-created_at", "-pk")
    )


def agent_overview(user, limit, now=None):
    """New, mine and overdue tickets and today's calls: one aggregate and three short lists."""
    now = now or timezone.now()
    today = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
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
        "new": list(base.filter(status=S.REPORTED).order_by("created_at", "pk")[:limit]),
        "overdue": list(base.filter(overdue_q).order_by("sla_due_at", "pk")[:limit]),
        "calls": list(base.filter(calls_q).order_by("-created_at", "-pk")[:limit]),
    }


def branch_overview(user, *, pickup_days, limit=10):
    """The engineer's branch: its devices by stage, and those waiting for pickup longer than
    `pickup_days` days."""
    branch = FaultTicket.objects.visible_to(user)  # the engineer's branch (the visibility rule)
    rows = dict(
        branch.filter(status__in=FaultTicket.BRANCH_STATUSES)
        .values_list("status").annotate(n=Count("pk")).order_by()
    )
    stages = [{"code": s, "label": S(s).label, "count": rows.get(s, 0)} for s in FaultTicket.BRANCH_STATUSES]
    cutoff = timezone.now() - timedelta(days=pickup_days)
    waiting = branch.filter(status=S.READY_FOR_PICKUP, status_changed_at__lt=cutoff)
    return {
        "stages": stages,
        "waiting": list(waiting.select_related("terminal", "merchant").order_by("status_changed_at", "pk")[:limit]),
        "waiting_count": waiting.count(),
    }


def open_ticket_counts():
    """Every ticket not closed, counted by status: [(label, count)] in the states' order."""
    rows = dict(
        FaultTicket.objects.open().values_list("status").annotate(n=Count("pk")).order_by()
    )
    return [(label, rows[code]) for code, label in S.choices if rows.get(code)]


def reported_between(since, until):
    """The tickets reported in [since, until)."""
    return FaultTicket.objects.filter(created_at__gte=since, created_at__lt=until)


def ticket_facts(since, until, *, repaired, resolved):
    """The tickets reported in [since, until), one row each, with what their events say (one GROUP
    BY over the join): repaired_at / resolved_at, the last move to one of `repaired` / `resolved`;
    went_remote / went_branch, how many times it was resolved remotely / sent to a branch."""
    return reported_between(since, until).annotate(
        repaired_at=Max("events__created_at", filter=Q(events__to_status__in=repaired)),
        resolved_at=Max("events__created_at", filter=Q(events__to_status__in=resolved)),
        went_remote=Count("events", filter=Q(events__to_status=S.RESOLVED_REMOTELY)),
        went_branch=Count("events", filter=Q(events__to_status=S.AWAITING_BRANCH)),
    )


def ticket_health_facts(since, until, *, repaired, resolved):
    """ticket_facts with, per ticket, `had_health`: its terminal sent health reports in the days
    before it was reported, and `firmware`: the firmware version the terminal last reported then
    (terminals.selectors own both rules)."""
    return ticket_facts(since, until, repaired=repaired, resolved=resolved).annotate(
        had_health=terminal_selectors.had_health_data(OuterRef("terminal_id"), OuterRef("created_at")),
        firmware=terminal_selectors.firmware_at(OuterRef("terminal_id"), OuterRef("created_at")),
    )


def events_between(since, until, *, to_status):
    """The ticket events of [since, until) that moved a ticket to one of `to_status`."""
    return TicketEvent.objects.filter(created_at__gte=since, created_at__lt=until, to_status__in=to_status)


def stage_events(since, until):
    """The events of the tickets reported in [since, until), each with `next_at`: when the ticket's
    next event happened (the end of the stage it entered)."""
    # Events of a ticket are never older than the ticket: the created_at bound lets the index help.
    return TicketEvent.objects.filter(
        created_at__gte=since, ticket__created_at__gte=since, ticket__created_at__lt=until
    ).annotate(
        # Ordered like the (ticket, created_at) index, so PostgreSQL reads it presorted: no sort step.
        next_at=Window(Lead("created_at"), partition_by=[F("ticket_id")], order_by=[F("created_at").asc()])
    )


def ratings_between(since, until):
    """The merchants' satisfaction ratings given in [since, until)."""
    return Satisfaction.objects.filter(created_at__gte=since, created_at__lt=until)


def search_tickets(user, number, limit):
    """Tickets whose service-order number starts with `number` (SO20261124 lists that day's)."""
    qs = FaultTicket.objects.visible_to(user).filter(service_order_no__startswith=number)
    return list(qs.select_related("terminal", "merchant").order_by("service_order_no")[:limit])


def loaner_notices(user):
    """The loaners the user's merchant has now, as "on loan: <serial> — …" notices (repairs.loans)."""
    return loans.merchant_notices(user)


def loaner_utilisation(user):
    """Loaners out now, average days out and missing over the pools `user` sees (repairs.loans)."""
    return loans.utilisation(user)
