import pytest
from django.urls import reverse

from tests.factories import ActiveTerminalFactory, MerchantFactory, MerchantUserFactory
from tests.insights.factories import make_ticket

pytestmark = pytest.mark.django_db

URL = "/search/"


@pytest.fixture
def terminal(db):
    merchant = MerchantFactory(name="鑫源便利店", contact_phone="13912345678")
    return ActiveTerminalFactory(serial_number="SN-ALPHA-01", tag_number="TG-ALPHA-01", tid="A1B2C3D4",
                           mid="123456789012345", merchant=merchant)


@pytest.mark.parametrize(
    "query, kind",
    [
        ("SN-ALPHA-01", "terminal"),
        ("sn-alpha-01", "terminal"),
        ("TG-ALPHA-01", "terminal"),
        ("A1B2C3D4", "terminal"),
        ("123456789012345", "terminal"),
        ("鑫源便利", "merchant"),
        ("13912345678", "merchant"),
    ],
)
def test_it_goes_straight_to_the_one_match(agent_client, terminal, query, kind):
    response = agent_client.get(URL, {"q": query})
    if kind == "merchant":
        assert response.status_code == 302
        assert response.url == reverse("accounts:merchant", args=[terminal.merchant_id])
    else:
        # the terminal's own page when the terminals area has one, otherwise the one-line result list
        if response.status_code == 302:
            assert terminal.serial_number in response.url
        else:
            assert terminal.serial_number in response.content.decode()


def test_it_goes_straight_to_a_ticket_by_its_service_order_number(agent_client, terminal):
    ticket = make_ticket(terminal, created="2026-11-02 09:00")
    response = agent_client.get(URL, {"q": ticket.service_order_no.lower()})
    assert response.status_code == 302
    assert response.url == ticket.get_absolute_url()


def test_it_goes_to_a_merchant_by_credit_code(agent_client, terminal):
    response = agent_client.get(URL, {"q": terminal.merchant.credit_code})
    assert response.status_code == 302


def test_it_lists_several_matches(agent_client, terminal):
    MerchantFactory(name="鑫源餐厅")
    response = agent_client.get(URL, {"q": "鑫源"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "鑫源便利店" in body and "鑫源餐厅" in body


def test_it_says_when_nothing_matches(agent_client, terminal):
    body = agent_client.get(URL, {"q": "不存在的东西"}).content.decode()
    assert 'data-testid="search-empty"' in body


def test_it_is_for_staff_only(client, terminal):
    client.force_login(MerchantUserFactory(merchant=terminal.merchant))
    assert client.get(URL, {"q": "SN-ALPHA-01"}).status_code == 403


def test_it_puts_a_search_box_in_the_navbar_for_staff_only(agent_client, client):
    assert 'data-testid="nav-search"' in agent_client.get(reverse("home")).content.decode()
    client.force_login(MerchantUserFactory())
    assert 'data-testid="nav-search"' not in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("size", [2, 20])
def test_it_searches_in_constant_queries(agent_client, django_assert_max_num_queries, size):
    for i in range(size):
        MerchantFactory(name=f"同名商户{i}")
    with django_assert_max_num_queries(8):
        response = agent_client.get(URL, {"q": "同名商户"})
    assert response.status_code == 200
