import pytest
from django.urls import reverse

from repairs.models import Satisfaction
from tests.factories import ActiveTerminalFactory, MerchantUserFactory
from tests.insights.factories import make_ticket

pytestmark = pytest.mark.django_db

DONE = [("remote_diagnosis", "2026-11-02 10:00"), ("resolved_remotely", "2026-11-02 11:00"),
        ("closed", "2026-11-03 11:00")]


@pytest.fixture
def closed_ticket(merchant):
    return make_ticket(ActiveTerminalFactory(merchant=merchant), created="2026-11-02 09:00", events=DONE)


def _url(ticket):
    return reverse("tickets:rate", args=[ticket.service_order_no])


def test_it_offers_the_rating_on_the_closed_ticket_page(merchant_client, closed_ticket):
    body = merchant_client.get(closed_ticket.get_absolute_url()).content.decode()
    assert 'data-testid="satisfaction"' in body
    assert 'name="rating"' in body


def test_it_does_not_offer_the_rating_while_the_repair_is_open(merchant_client, merchant):
    ticket = make_ticket(ActiveTerminalFactory(merchant=merchant), created="2026-11-02 09:00",
                         events=[("remote_diagnosis", "2026-11-02 10:00")])
    assert 'name="rating"' not in merchant_client.get(ticket.get_absolute_url()).content.decode()
    response = merchant_client.post(_url(ticket), {"rating": 5})
    assert response.status_code == 302
    assert not Satisfaction.objects.exists()


def test_it_records_the_merchants_rating_once(merchant_client, merchant_user, closed_ticket):
    response = merchant_client.post(_url(closed_ticket), {"rating": 4, "comment": "  很快修好了 "})
    assert response.status_code == 302
    rating = Satisfaction.objects.get()
    assert (rating.ticket, rating.rating, rating.comment, rating.rated_by) == (closed_ticket, 4, "很快修好了", merchant_user)
    merchant_client.post(_url(closed_ticket), {"rating": 1})
    assert Satisfaction.objects.get().rating == 4
    body = merchant_client.get(closed_ticket.get_absolute_url()).content.decode()
    assert 'data-testid="satisfaction-given"' in body and "很快修好了" in body


def test_it_answers_htmx_with_the_panel(merchant_client, closed_ticket):
    response = merchant_client.post(_url(closed_ticket), {"rating": 5}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="satisfaction-given"' in response.content.decode()


@pytest.mark.parametrize("rating", ["0", "6", "x", ""])
def test_it_refuses_a_rating_out_of_range(merchant_client, closed_ticket, rating):
    merchant_client.post(_url(closed_ticket), {"rating": rating})
    assert not Satisfaction.objects.exists()


def test_it_hides_another_merchants_ticket(other_client, closed_ticket):
    assert other_client.post(_url(closed_ticket), {"rating": 5}).status_code == 404


def test_it_lets_only_the_merchant_rate(agent_client, closed_ticket):
    assert agent_client.post(_url(closed_ticket), {"rating": 5}).status_code == 403
    assert not Satisfaction.objects.exists()


def test_it_refuses_get(merchant_client, closed_ticket):
    assert merchant_client.get(_url(closed_ticket)).status_code == 405


def test_it_shows_staff_the_merchants_rating(agent_client, closed_ticket):
    Satisfaction.objects.create(ticket=closed_ticket, rating=2, rated_by=MerchantUserFactory(merchant=closed_ticket.merchant))
    body = agent_client.get(closed_ticket.get_absolute_url()).content.decode()
    assert 'data-testid="satisfaction-given"' in body
    assert 'name="rating"' not in body


def test_it_answers_htmx_with_the_reason_when_already_rated(merchant_client, merchant_user, closed_ticket):
    Satisfaction.objects.create(ticket=closed_ticket, rating=3, rated_by=merchant_user)
    response = merchant_client.post(_url(closed_ticket), {"rating": 5}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps only 2xx answers
    body = response.content.decode()
    assert "This repair has already been rated." in body
    assert 'data-testid="satisfaction-given"' in body
