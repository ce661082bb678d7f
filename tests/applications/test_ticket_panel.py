"""The unrepairable ticket's page offers the merchant its next step: a replacement, then the application."""

import pytest

from tests.applications import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(merchant, channel):
    return f.unrepairable_ticket(merchant, channel)


def test_it_offers_the_merchant_a_replacement_on_the_unrepairable_ticket(merchant_client, ticket):
    body = merchant_client.get(ticket.get_absolute_url()).content.decode()
    assert 'data-testid="replacement-panel"' in body
    assert f'href="/applications/new/?ticket={ticket.service_order_no}"' in body


def test_it_links_the_application_once_it_is_filed(merchant_client, merchant_user, channel, ticket):
    app = f.application(merchant_user, channel, kind="replacement", ticket=ticket)
    body = merchant_client.get(ticket.get_absolute_url()).content.decode()
    assert f'href="{app.get_absolute_url()}"' in body
    assert "/applications/new/?ticket=" not in body


def test_it_shows_reviewers_the_application_and_agents_nothing(client, merchant_user, channel, ticket, reviewer, agent):
    app = f.application(merchant_user, channel, kind="replacement", ticket=ticket)
    client.force_login(reviewer)
    assert f'href="{app.get_absolute_url()}"' in client.get(ticket.get_absolute_url()).content.decode()
    client.force_login(agent)
    assert 'data-testid="replacement-panel"' not in client.get(ticket.get_absolute_url()).content.decode()


def test_it_says_nothing_about_replacements_on_a_ticket_still_in_repair(merchant_client, ticket):
    from repairs.models import FaultTicket

    FaultTicket.objects.filter(pk=ticket.pk).update(status=FaultTicket.Status.REPAIRING)
    assert 'data-testid="replacement-panel"' not in merchant_client.get(ticket.get_absolute_url()).content.decode()
