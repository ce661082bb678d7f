"""Booked drop-off slots: the half-hours a branch takes terminals in, and the seats booked in them.

A branch publishes `DropoffCapacity` (seats per half-hour between two times); it takes drop-offs
on Chinese working days (repairs.sla.is_workday: public holidays off, make-up days on) that are
not one of its `BranchClosure` days. A ticket sent to a branch (`awaiting_branch`) gets at most one
booking, made by its merchant or by an agent during the call; booking, moving and cancelling are
each one transaction that locks the branch's capacity row, so the last seat of a slot goes to one
ticket only. The page (repairs.views_dropoff) and the API (repairs.dropoff_api) call these.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.services import notify
from portal.accounts.models import User
from portal.core.workflow import WorkflowError
from repairs.models import BranchClosure, DropoffBooking, DropoffCapacity, FaultTicket
from repairs.sla import is_workday

S = FaultTicket.Status
SLOT = timedelta(minutes=DropoffBooking.SLOT_MINUTES)
# How far ahead a slot can be booked (calendar days, today included).
BOOKING_DAYS = 14

NOT_BOOKABLE = gettext_lazy("Drop-off slots can be booked only while the ticket waits for its branch visit.")


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    seats: int
    booked: int

    @property
    def free(self):
        return max(0, self.seats - self.booked)

    @property
    def value(self):
        return timezone.localtime(self.starts_at).strftime("%Y-%m-%dT%H:%M")


def takes_dropoffs(branch_id, day, closures=None):
    """Whether the branch takes drop-offs on `day` (a working day and not one of its closures)."""
    if not is_workday(day):
        return False
    if closures is None:
        return not BranchClosure.objects.filter(branch_id=branch_id, date=day).exists()
    return day not in closures


def slot_starts(capacity, day):
    """The aware start times of the day's half-hour slots (opening hours only)."""
    tz = timezone.get_current_timezone()
    cursor = timezone.make_aware(datetime.combine(day, capacity.opens_at), tz)
    end = timezone.make_aware(datetime.combine(day, capacity.closes_at), tz)
    starts = []
    while cursor + SLOT <= end:
        starts.append(cursor)
        cursor += SLOT
    return starts


def capacity_of(branch_id):
    return DropoffCapacity.objects.filter(branch_id=branch_id).first()


def published_slots(branch_id, *, now=None, days=BOOKING_DAYS, capacity=None):
    """The branch's bookable slots from `now` on, as [(day, [Slot, ...]), ...]: three queries
    (capacity, closures, seats booked) whatever the number of days."""
    now = now or timezone.now()
    capacity = capacity or capacity_of(branch_id)
    if capacity is None:
        return []
    first = timezone.localdate(now)
    last = first + timedelta(days=days - 1)
    closures = set(
        BranchClosure.objects.filter(branch_id=branch_id, date__range=(first, last)).values_list("date", flat=True)
    )
    tz = timezone.get_current_timezone()
    window = (
        timezone.make_aware(datetime.combine(first, datetime.min.time()), tz),
        timezone.make_aware(datetime.combine(last + timedelta(days=1), datetime.min.time()), tz),
    )
    booked = dict(
        DropoffBooking.objects.filter(
            branch_id=branch_id, status=DropoffBooking.Status.BOOKED, starts_at__range=window
        )
        .values("starts_at").annotate(n=Count("pk")).values_list("starts_at", "n")
    )
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        if not takes_dropoffs(branch_id, day, closures):
            continue
        slots = [
            Slot(start, capacity.seats, booked.get(start, 0)) for start in slot_starts(capacity, day) if start > now
        ]
        if slots:
            result.append((day, slots))
    return result


def current_booking(ticket):
    """The ticket's booked drop-off (None when it has none)."""
    if not ticket.may_have("booking"):
        return None
    return (
        DropoffBooking.objects.filter(ticket_id=ticket.pk, status=DropoffBooking.Status.BOOKED)
        .select_related("branch").first()
    )


def may_book(ticket, user):
    """The ticket's own merchant, an agent or an administrator (engineers receive, they do not book)."""
    if user.is_merchant:
        return ticket.merchant_id == user.merchant_id
    return user.is_agent or user.is_admin_role


def check_bookable(ticket, actor):
    """Raise WorkflowError unless `actor` may book a drop-off for `ticket` now."""
    if not may_book(ticket, actor):
        raise WorkflowError(_("You cannot book a drop-off for this ticket."), code="forbidden")
    if ticket.status != S.AWAITING_BRANCH or not ticket.branch_id:
        raise WorkflowError(NOT_BOOKABLE, code="not_allowed")


def _lock_ticket(ticket):
    return FaultTicket.objects.select_for_update(of=("self",)).select_related("branch", "terminal", "merchant").get(
        pk=ticket.pk
    )


def _take_seat(ticket, starts_at, now):
    """Lock the branch's capacity and check `starts_at` is one of its open slots with a free seat."""
    capacity = DropoffCapacity.objects.select_for_update().filter(branch_id=ticket.branch_id).first()
    if capacity is None:
        raise WorkflowError(_("This branch does not take booked drop-offs yet: walk in during its opening hours."))
    error = None
    local = timezone.localtime(starts_at)
    if starts_at <= now:
        error = _("Choose a time in the future.")
    elif local.date() > timezone.localdate(now) + timedelta(days=BOOKING_DAYS - 1):
        error = _("Drop-offs can be booked up to %(days)s days ahead.") % {"days": BOOKING_DAYS}
    elif not takes_dropoffs(ticket.branch_id, local.date()):
        error = _("The branch takes no drop-offs that day.")
    elif starts_at not in slot_starts(capacity, local.date()):
        error = _("Choose one of the branch's half-hour slots.")
    else:
        taken = DropoffBooking.objects.filter(
            branch_id=ticket.branch_id, status=DropoffBooking.Status.BOOKED, starts_at=starts_at
        ).count()
        if taken >= capacity.seats:
            error = _("That slot has just been fully booked: choose another.")
    if error:
        raise WorkflowError.invalid({"starts_at": [error]})


def book_slot(*, ticket, starts_at, actor, now=None):
    """Book (or move) the ticket's drop-off to `starts_at`; returns the booking."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_ticket(ticket)
        check_bookable(locked, actor)
        _take_seat(locked, starts_at, now)
        booking = (
            DropoffBooking.objects.select_for_update()
            .filter(ticket_id=locked.pk, status=DropoffBooking.Status.BOOKED).first()
        )
        moved = booking is not None
        if moved:
            if booking.starts_at == starts_at and booking.branch_id == locked.branch_id:
                return booking
            booking.starts_at, booking.branch_id, booking.booked_by = starts_at, locked.branch_id, actor
            booking.save(update_fields=["starts_at", "branch", "booked_by", "updated_at"])
        else:
            booking = DropoffBooking.objects.create(
                ticket=locked, branch_id=locked.branch_id, starts_at=starts_at, booked_by=actor
            )
        _notify_change(locked, booking, actor, "moved" if moved else "booked")
    return booking


def cancel_booking(*, ticket, actor):
    """Cancel the ticket's booked drop-off (the seat is free again)."""
    with transaction.atomic():
        locked = _lock_ticket(ticket)
        if not may_book(locked, actor):
            raise WorkflowError(_("You cannot book a drop-off for this ticket."), code="forbidden")
        booking = (
            DropoffBooking.objects.select_for_update()
            .filter(ticket_id=locked.pk, status=DropoffBooking.Status.BOOKED).first()
        )
        if booking is None:
            raise WorkflowError(_("This ticket has no booked drop-off."))
        if booking.starts_at <= timezone.now() and locked.status != S.AWAITING_BRANCH:
            raise WorkflowError(_("The terminal was dropped off already."))
        booking.status = DropoffBooking.Status.CANCELLED
        booking.save(update_fields=["status", "updated_at"])
        _notify_change(locked, booking, actor, "cancelled")
    return booking


def _context(ticket, booking, change=""):
    local = timezone.localtime(booking.starts_at)
    return {
        "service_order_no": ticket.service_order_no,
        "terminal": ticket.terminal.serial_number,
        "branch": ticket.branch.name if ticket.branch_id else "",
        "branch_address": ticket.branch.address if ticket.branch_id else "",
        "starts_at": local.strftime("%Y-%m-%d %H:%M"),
        "ends_at": timezone.localtime(booking.ends_at).strftime("%H:%M"),
        "change": change,
    }


def _people(ticket, actor=None):
    """The ticket's merchant users and its branch's engineers (not `actor`)."""
    from django.db.models import Q

    users = User.objects.filter(
        Q(merchant_id=ticket.merchant_id) | Q(role="engineer", branch_id=ticket.branch_id), is_active=True
    ).select_related("notification_preference").order_by("pk")
    if actor is not None:
        users = users.exclude(pk=actor.pk)
    return list(users)


def _notify_change(ticket, booking, actor, change):
    notify(
        # Each change is its own event (moving back and forth tells each move).
        kind="dropoff.booking", event_key=f"dropoff:{booking.pk}:{change}:{booking.updated_at:%Y%m%d%H%M%S%f}",
        recipients=_people(ticket, actor), context=_context(ticket, booking, change), url=ticket.get_absolute_url(),
    )


# --- reminders (Celery beat: repairs.dropoff_reminders) -----------------------------------------

# The evening reminder goes from this hour of the day before the slot.
EVENING_HOUR = 18


def reminders_due(now=None):
    """Remind the merchant of each booked drop-off the evening before and an hour before, once each
    (the event key names the booking, the time and the reminder: a moved booking is reminded again)."""
    now = now or timezone.now()
    local_now = timezone.localtime(now)
    tomorrow = local_now.date() + timedelta(days=1)
    tz = timezone.get_current_timezone()
    candidates = DropoffBooking.objects.filter(status=DropoffBooking.Status.BOOKED, starts_at__gt=now)
    due = list(
        candidates.filter(starts_at__lte=now + timedelta(hours=1))
        .select_related("ticket__terminal", "ticket__branch").order_by("starts_at")[:1000]
    )
    which = {b.pk: "hour" for b in due}
    if local_now.hour >= EVENING_HOUR:
        tomorrow_start = timezone.make_aware(datetime.combine(tomorrow, datetime.min.time()), tz)
        evening = list(
            candidates.filter(starts_at__gte=tomorrow_start, starts_at__lt=tomorrow_start + timedelta(days=1))
            .select_related("ticket__terminal", "ticket__branch").order_by("starts_at")[:1000]
        )
        for booking in evening:
            if booking.pk not in which:
                which[booking.pk] = "evening"
                due.append(booking)
    sent = 0
    for booking in due:
        ticket = booking.ticket
        if ticket.status != S.AWAITING_BRANCH:
            continue
        reminder = which[booking.pk]
        merchants = list(
            User.objects.filter(merchant_id=ticket.merchant_id, is_active=True).select_related(
                "notification_preference"
            )
        )
        with transaction.atomic():
            rows = notify(
                kind="dropoff.reminder",
                event_key=f"dropoff:{booking.pk}:{reminder}:{booking.starts_at:%Y%m%d%H%M}",
                recipients=merchants, context={**_context(ticket, booking), "reminder": reminder},
                url=ticket.get_absolute_url(),
            )
        sent += bool(rows)
    return sent


# --- the engineer's day ---------------------------------------------------------------------------


def day_bookings(branch_id, day: date | None = None):
    """The branch's booked drop-offs of `day` (today), in time order, with their tickets: one query.
    At most seats × half-hours rows, so the page lists them whole."""
    day = day or timezone.localdate()
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()), tz)
    return list(
        DropoffBooking.objects.filter(
            branch_id=branch_id, status=DropoffBooking.Status.BOOKED, starts_at__gte=start,
            starts_at__lt=start + timedelta(days=1),
        )
        .select_related("ticket__terminal", "ticket__merchant")
        # only what the engineer's card shows (a booking's ticket, merchant and terminal rows are
        # ~70 columns to compile and build objects of; these are 8)
        .only("starts_at", "status", "ticket__service_order_no", "ticket__status", "ticket__merchant__name",
              "ticket__terminal__serial_number")
        .order_by("starts_at", "pk")
    )


def parse_slot(value):
    """A slot's form/API value ("YYYY-MM-DDTHH:MM", local time, or an ISO time with offset)."""
    from django.utils.dateparse import parse_datetime

    try:
        parsed = parse_datetime(str(value or "").strip())
    except ValueError:  # well formed but impossible, e.g. month 13
        return None
    if parsed is None:
        return None
    try:
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
        # In UTC: PostgreSQL refuses offsets beyond ±15:59, which Python accepts.
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 pushed over the edge by an offset
        return None
