"""The drop-off panel of the ticket page, its API twin, the engineer's today list, tracking and the
printed form."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from repairs import dropoff
from repairs.models import DropoffBooking, DropoffCapacity, FaultTicket
from tests.repairs.factories import fields_for, make_ticket

S = FaultTicket.Status


def next_slot(branch_id):
    return dropoff.published_slots(branch_id)[0][1][0]


@pytest.fixture
def capacity(branch):
    # Every half-hour of the day, so a slot is always ahead whenever the test runs.
    return DropoffCapacity.objects.create(branch=branch, opens_at="00:00", closes_at="23:30", seats=2)


@pytest.fixture
def waiting(people, capacity):
    return make_ticket(people, S.AWAITING_BRANCH)


def _workday_capacity_or_skip(branch_id):
    if not dropoff.published_slots(branch_id):
        pytest.fail("no slot in 14 days: the calendar has no working day?")


@pytest.mark.django_db
def test_it_offers_the_merchant_the_free_slots_and_books_one(merchant_client, waiting):
    page = merchant_client.get(waiting.get_absolute_url())
    assert page.status_code == 200
    assert b'data-testid="dropoff-panel"' in page.content and b"<optgroup" in page.content
    slot = next_slot(waiting.branch_id)
    response = merchant_client.post(reverse("tickets:dropoff_book", args=[waiting.service_order_no]),
                                    {"starts_at": slot.value})
    assert response.status_code == 302
    page = merchant_client.get(waiting.get_absolute_url())
    assert "Booked drop-off:" in page.content.decode()
    assert DropoffBooking.objects.get(ticket=waiting).starts_at == slot.starts_at


@pytest.mark.django_db
def test_it_answers_a_bad_time_with_a_field_error(merchant_client, waiting):
    response = merchant_client.post(reverse("tickets:dropoff_book", args=[waiting.service_order_no]),
                                    {"starts_at": "2026-13-45T99:00"})
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert not DropoffBooking.objects.exists()


@pytest.mark.django_db
def test_it_hides_the_ticket_from_another_merchant(other_client, waiting):
    # (other_client is the test's one client, signed in as the other merchant)
    url = reverse("tickets:dropoff_book", args=[waiting.service_order_no])
    assert other_client.post(url, {"starts_at": next_slot(waiting.branch_id).value}).status_code == 404
    assert other_client.post(reverse("tickets:dropoff_cancel", args=[waiting.service_order_no])).status_code == 404


@pytest.mark.django_db
def test_it_refuses_the_engineer_and_a_ticket_not_sent_to_a_branch(client, engineer, merchant_user, people, capacity):
    waiting = make_ticket(people, S.AWAITING_BRANCH)
    early = make_ticket(people, S.REMOTE_DIAGNOSIS)
    slot = next_slot(waiting.branch_id).value
    client.force_login(engineer)
    assert client.post(reverse("tickets:dropoff_book", args=[waiting.service_order_no]),
                       {"starts_at": slot}).status_code == 403
    client.force_login(merchant_user)
    response = client.post(reverse("tickets:dropoff_book", args=[early.service_order_no]), {"starts_at": slot})
    assert response.status_code == 302 and response["Location"] == early.get_absolute_url()
    page = client.get(early.get_absolute_url()).content.decode()
    assert str(dropoff.NOT_BOOKABLE) in page
    assert not DropoffBooking.objects.exists()


@pytest.mark.django_db
def test_it_cancels_from_the_page(merchant_client, waiting, people):
    dropoff.book_slot(ticket=waiting, starts_at=next_slot(waiting.branch_id).starts_at, actor=people["merchant"])
    response = merchant_client.post(reverse("tickets:dropoff_cancel", args=[waiting.service_order_no]))
    assert response.status_code == 302
    assert dropoff.current_booking(waiting) is None


@pytest.mark.django_db
def test_it_shows_the_engineer_todays_bookings_in_order_and_the_missed_one(
    engineer_client, people, capacity, monkeypatch
):
    today = timezone.localdate()
    midnight = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    # Midday, whatever the clock says: before 00:30 no slot of today would be over yet.
    monkeypatch.setattr(timezone, "now", lambda: midnight + timedelta(hours=12))
    tickets = [make_ticket(people, S.AWAITING_BRANCH) for _ in range(2)]
    late, early = midnight + timedelta(hours=23), midnight
    for ticket, when in ((tickets[0], late), (tickets[1], early)):
        DropoffBooking.objects.create(ticket=ticket, branch_id=ticket.branch_id, starts_at=when,
                                      booked_by=people["merchant"])
    html = engineer_client.get(reverse("tickets:list")).content.decode()
    section = html[html.index('data-testid="todays-dropoffs"'):]
    assert section.index(tickets[1].service_order_no) < section.index(tickets[0].service_order_no)
    assert 'data-testid="dropoff-missed"' in section  # the 00:00 slot is over, the terminal never came


@pytest.mark.django_db
def test_it_lists_today_in_the_same_number_of_queries_for_more_bookings(
    engineer_client, people, capacity, django_assert_max_num_queries
):
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()))

    def add(n):
        for i in range(n):
            ticket = make_ticket(people, S.AWAITING_BRANCH)
            DropoffBooking.objects.create(ticket=ticket, branch_id=ticket.branch_id,
                                          starts_at=midnight + timedelta(minutes=30 * (i % 40)),
                                          booked_by=people["merchant"])

    add(2)
    engineer_client.get(reverse("tickets:list"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        engineer_client.get(reverse("tickets:list"))
    add(6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        engineer_client.get(reverse("tickets:list"))


@pytest.mark.django_db
def test_it_shows_the_booked_time_on_tracking_and_the_printed_form(client, agent_client, people, waiting):
    slot = next_slot(waiting.branch_id)
    dropoff.book_slot(ticket=waiting, starts_at=slot.starts_at, actor=people["agent"])
    when = timezone.localtime(slot.starts_at).strftime("%Y-%m-%d %H:%M")
    track = client.get(reverse("tracking:track"), {"no": waiting.service_order_no, "tag": waiting.terminal.tag_number})
    assert when in track.content.decode()
    from repairs.workflow import ticket_transition

    ticket_transition(ticket=waiting, to=S.AT_BRANCH, actor=people["engineer"],
                      **fields_for(waiting, S.AWAITING_BRANCH, S.AT_BRANCH))
    form = agent_client.get(reverse("tickets:repair_form", args=[waiting.service_order_no]))
    assert when in form.content.decode()


# --- the API twin -------------------------------------------------------------------------------


def api(no):
    return f"/api/v1/tickets/{no}/dropoff/"


@pytest.mark.django_db
def test_it_books_moves_and_cancels_over_the_api(merchant_client, waiting):
    listing = merchant_client.get(api(waiting.service_order_no)).json()
    assert listing["can_book"] and listing["booking"] is None and listing["slots"]
    first, second = listing["slots"][0]["starts_at"], listing["slots"][1]["starts_at"]
    booked = merchant_client.post(api(waiting.service_order_no), {"starts_at": first}, content_type="application/json")
    assert booked.status_code == 200, booked.json()
    assert booked.json()["booking"]["branch"] == "BR001"
    moved = merchant_client.post(api(waiting.service_order_no), {"starts_at": second}, content_type="application/json")
    assert DropoffBooking.objects.get(status="booked").starts_at == dropoff.parse_slot(second)
    assert moved.json()["booking"]["starts_at"] == moved.json()["booking"]["starts_at"]
    cancelled = merchant_client.delete(api(waiting.service_order_no))
    assert cancelled.status_code == 200 and cancelled.json()["booking"] is None


@pytest.mark.django_db
def test_it_answers_the_api_with_field_errors_and_refusals(merchant_client, other_merchant_user, people, capacity):
    from django.test import Client

    other_client = Client()
    other_client.force_login(other_merchant_user)
    waiting = make_ticket(people, S.AWAITING_BRANCH)
    bad = merchant_client.post(api(waiting.service_order_no), {"starts_at": "soon"}, content_type="application/json")
    assert bad.status_code == 400 and "starts_at" in bad.json()
    off = merchant_client.post(api(waiting.service_order_no), {"starts_at": "2020-01-01T09:00"},
                               content_type="application/json")
    assert off.status_code == 400 and off.json()["code"] == "invalid"
    assert other_client.get(api(waiting.service_order_no)).status_code == 404
    early = make_ticket(people, S.REMOTE_DIAGNOSIS)
    slot = next_slot(waiting.branch_id).value
    refused = merchant_client.post(api(early.service_order_no), {"starts_at": slot}, content_type="application/json")
    assert refused.status_code == 409
    assert merchant_client.delete(api(waiting.service_order_no)).status_code == 409
    assert not DropoffBooking.objects.exists()
