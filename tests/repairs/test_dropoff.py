"""Booked drop-off slots: the branch's published capacity, booking, moving, cancelling, the
engineer's day, reminders and missed slots (repairs/dropoff.py)."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation

from notifications.models import Notification
from portal.core.workflow import WorkflowError
from repairs import dropoff
from repairs.models import DropoffBooking, DropoffCapacity, FaultTicket
from tests.conftest import requires_postgres
from tests.factories import BranchFactory, MerchantUserFactory
from tests.races import run_in_threads
from tests.repairs.factories import make_ticket

S = FaultTicket.Status
# Wednesday 30 September 2026, 10:00 in Shanghai: National Day runs 1–7 October, Saturday
# 10 October is a make-up working day.
NOW = timezone.make_aware(datetime(2026, 9, 30, 10, 0))


def at(day, hour, minute=0):
    return timezone.make_aware(datetime(2026, day // 100, day % 100, hour, minute))


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def capacity(branch):
    return DropoffCapacity.objects.create(branch=branch, opens_at="09:00", closes_at="12:00", seats=1)


@pytest.fixture
def waiting(people, capacity):
    return make_ticket(people, S.AWAITING_BRANCH)


@pytest.mark.django_db
def test_it_publishes_half_hours_on_working_days_minus_holidays_and_closures(capacity, branch):
    branch.closures.create(date=datetime(2026, 10, 12).date(), reason="training")
    days = dict(dropoff.published_slots(branch.pk, now=NOW))
    assert datetime(2026, 9, 30).date() in days
    # Only the slots still ahead today: 10:30, 11:00, 11:30 (10:00 has begun).
    assert [timezone.localtime(s.starts_at).strftime("%H:%M") for s in days[NOW.date()]] == ["10:30", "11:00", "11:30"]
    holidays = [datetime(2026, 10, d).date() for d in range(1, 8)]
    assert not any(d in days for d in holidays)
    assert datetime(2026, 10, 10).date() in days  # the make-up Saturday
    assert datetime(2026, 10, 11).date() not in days  # an ordinary Sunday
    assert datetime(2026, 10, 12).date() not in days  # the branch's own closure
    assert [timezone.localtime(s.starts_at).strftime("%H:%M") for s in days[datetime(2026, 10, 8).date()]] == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30",
    ]


@pytest.mark.django_db
def test_it_books_a_slot_for_the_merchant_and_tells_the_branch(people, waiting, engineer):
    booking = dropoff.book_slot(ticket=waiting, starts_at=at(1008, 9, 30), actor=people["merchant"], now=NOW)
    assert booking.branch.code == "BR001" and booking.status == DropoffBooking.Status.BOOKED
    assert Notification.objects.filter(kind="dropoff.booking", recipient=engineer).exists()
    day = dict(dropoff.published_slots(waiting.branch_id, now=NOW))[datetime(2026, 10, 8).date()]
    assert [s.free for s in day][:2] == [1, 0]


@pytest.mark.django_db
def test_it_lets_the_agent_book_during_the_call(people, waiting):
    booking = dropoff.book_slot(ticket=waiting, starts_at=at(1008, 9), actor=people["agent"], now=NOW)
    assert booking.booked_by == people["agent"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "starts_at, message",
    [
        (at(930, 9, 30), "future"),
        (at(1001, 9, 30), "no drop-offs that day"),
        (at(1008, 9, 15), "half-hour slots"),
        (at(1008, 12, 0), "half-hour slots"),
        (at(1030, 9, 0), "days ahead"),
    ],
)
def test_it_refuses_a_time_that_is_not_a_published_slot(people, waiting, starts_at, message):
    with pytest.raises(WorkflowError) as refused:
        dropoff.book_slot(ticket=waiting, starts_at=starts_at, actor=people["merchant"], now=NOW)
    assert refused.value.code == "invalid"
    assert message in refused.value.field_errors["starts_at"][0]
    assert not DropoffBooking.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_full_slot_and_changes_nothing(people, waiting, capacity):
    other = make_ticket(people, S.AWAITING_BRANCH)
    dropoff.book_slot(ticket=other, starts_at=at(1008, 9), actor=people["merchant"], now=NOW)
    with pytest.raises(WorkflowError) as refused:
        dropoff.book_slot(ticket=waiting, starts_at=at(1008, 9), actor=people["merchant"], now=NOW)
    assert "fully booked" in refused.value.field_errors["starts_at"][0]
    assert DropoffBooking.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_a_ticket_not_waiting_for_its_branch(people, capacity):
    ticket = make_ticket(people, S.REMOTE_DIAGNOSIS)
    with pytest.raises(WorkflowError) as refused:
        dropoff.book_slot(ticket=ticket, starts_at=at(1008, 9), actor=people["merchant"], now=NOW)
    assert refused.value.code == "not_allowed"


@pytest.mark.django_db
def test_it_refuses_another_merchant_and_the_engineer(people, waiting, engineer):
    for user in (MerchantUserFactory(), engineer):
        with pytest.raises(WorkflowError) as refused:
            dropoff.book_slot(ticket=waiting, starts_at=at(1008, 9), actor=user, now=NOW)
        assert refused.value.code == "forbidden"
    assert not DropoffBooking.objects.exists()


@pytest.mark.django_db
def test_it_moves_and_cancels_a_booking_freeing_the_seat(people, waiting):
    first = dropoff.book_slot(ticket=waiting, starts_at=at(1008, 9), actor=people["merchant"], now=NOW)
    moved = dropoff.book_slot(ticket=waiting, starts_at=at(1010, 11), actor=people["merchant"], now=NOW)
    assert moved.pk == first.pk and moved.starts_at == at(1010, 11)
    assert DropoffBooking.objects.filter(status="booked").count() == 1
    free = {s.starts_at: s.free for _, slots in dropoff.published_slots(waiting.branch_id, now=NOW) for s in slots}
    assert free[at(1008, 9)] == 1 and free[at(1010, 11)] == 0
    dropoff.cancel_booking(ticket=waiting, actor=people["merchant"])
    assert dropoff.current_booking(waiting) is None
    with pytest.raises(WorkflowError):
        dropoff.cancel_booking(ticket=waiting, actor=people["merchant"])


@pytest.mark.django_db
def test_it_lists_the_branch_day_in_time_order_in_one_query(people, capacity, django_assert_num_queries):
    capacity.seats = 3
    capacity.save()
    tomorrow = timezone.localdate() + timedelta(days=1)
    tickets = [make_ticket(people, S.AWAITING_BRANCH) for _ in range(3)]
    times = [timezone.make_aware(datetime.combine(tomorrow, datetime.min.time())) + timedelta(hours=h)
             for h in (11, 9, 10)]
    for ticket, when in zip(tickets, times, strict=True):
        DropoffBooking.objects.create(ticket=ticket, branch_id=ticket.branch_id, starts_at=when,
                                      booked_by=people["merchant"])
    with django_assert_num_queries(1):
        day = dropoff.day_bookings(capacity.branch_id, tomorrow)
        assert [b.ticket.terminal.serial_number for b in day]
        assert all(b.ticket.merchant.name and not b.is_missed and b.ticket.get_absolute_url() for b in day)
    assert [b.starts_at for b in day] == sorted(times)


@pytest.mark.django_db
def test_it_shows_a_missed_slot_until_the_terminal_arrives(people, waiting):
    booking = dropoff.book_slot(ticket=waiting, starts_at=at(1008, 9), actor=people["merchant"], now=NOW)
    DropoffBooking.objects.filter(pk=booking.pk).update(starts_at=timezone.now() + timedelta(hours=1))
    booking.refresh_from_db()
    assert not booking.is_missed
    DropoffBooking.objects.filter(pk=booking.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    booking.refresh_from_db()
    assert booking.is_missed
    make_ticket_arrive(people, waiting)
    booking.refresh_from_db()
    assert not booking.is_missed


@pytest.mark.django_db
def test_it_reminds_the_merchant_the_evening_before_and_an_hour_before_once_each(people, waiting):
    dropoff.book_slot(ticket=waiting, starts_at=at(1008, 10), actor=people["merchant"], now=NOW)
    merchant = people["merchant"]
    reminders = Notification.objects.filter(kind="dropoff.reminder", recipient=merchant, channel="in_app")
    assert dropoff.reminders_due(at(1007, 17)) == 0  # the evening starts at 18:00
    assert dropoff.reminders_due(at(1007, 18, 5)) == 1
    assert dropoff.reminders_due(at(1007, 20)) == 0  # once
    assert reminders.count() == 1
    assert dropoff.reminders_due(at(1008, 9, 5)) == 1
    assert dropoff.reminders_due(at(1008, 9, 10)) == 0
    assert [n.event_key.split(":")[2] for n in reminders.order_by("pk")] == ["evening", "hour"]


@pytest.mark.django_db
def test_it_writes_the_reminder_in_the_recipients_language(people, waiting):
    from notifications.delivery import render_subject

    merchant = people["merchant"]
    merchant.language = "zh-hans"
    merchant.save(update_fields=["language"])
    dropoff.book_slot(ticket=waiting, starts_at=at(1008, 10), actor=people["merchant"], now=NOW)
    dropoff.reminders_due(at(1008, 9, 5))
    note = Notification.objects.get(kind="dropoff.reminder", recipient=merchant, channel="in_app")
    assert "提醒" in render_subject(note)


def make_ticket_arrive(people, ticket):
    from repairs.workflow import ticket_transition
    from tests.repairs.factories import fields_for

    ticket_transition(ticket=ticket, to=S.AT_BRANCH, actor=people["engineer"],
                      **fields_for(ticket, S.AWAITING_BRANCH, S.AT_BRANCH))


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_gives_the_last_seat_to_one_of_two_merchants_on_postgres(people, capacity):
    BranchFactory(code="BR001")
    first = make_ticket(people, S.AWAITING_BRANCH)
    second_people = {**people, "merchant": MerchantUserFactory()}
    second = make_ticket(second_people, S.AWAITING_BRANCH)
    results = run_in_threads([
        lambda: dropoff.book_slot(ticket=first, starts_at=at(1008, 9), actor=people["merchant"], now=NOW),
        lambda: dropoff.book_slot(ticket=second, starts_at=at(1008, 9), actor=second_people["merchant"], now=NOW),
    ])
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, WorkflowError) and error.code == "invalid" and error.field_errors["starts_at"]
    assert DropoffBooking.objects.filter(starts_at=at(1008, 9), status="booked").count() == 1
