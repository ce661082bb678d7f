"""Engineers work on their own branch's tickets: lists, details, search, dashboards and the terminal's
history show an engineer only the tickets of its branch (from the moment a ticket awaits it);
agents, reviewers and administrators see every ticket as before."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from repairs.models import FaultTicket, Satisfaction
from tests.factories import (
    ActiveTerminalFactory,
    AdminFactory,
    BranchFactory,
    EngineerFactory,
    ReviewerFactory,
)
from tests.repairs.factories import make_ticket

pytestmark = pytest.mark.django_db

S = FaultTicket.Status


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def other_engineer(db):
    return EngineerFactory(username="olga", branch=BranchFactory(code="BR002"))


@pytest.fixture
def awaiting(ticket_at):
    """A ticket sent to BR001 and not yet brought in."""
    return ticket_at(S.AWAITING_BRANCH)


def test_a_ticket_awaiting_a_branch_is_its_engineers(client, engineer, other_engineer, awaiting):
    page = reverse("tickets:detail", args=[awaiting.service_order_no])
    api_url = f"/api/v1/tickets/{awaiting.service_order_no}/"

    client.force_login(engineer)
    assert client.get(page).status_code == 200
    assert api(engineer).get(api_url).json()["branch"]["code"] == "BR001"

    client.force_login(other_engineer)
    assert client.get(page).status_code == 404
    response = api(other_engineer).get(api_url)
    assert response.status_code == 404
    assert "symptoms" not in response.json() and "merchant" not in response.json()


def test_another_branch_cannot_move_comment_or_attach(client, other_engineer, awaiting):
    client.force_login(other_engineer)
    t = awaiting.terminal
    no = awaiting.service_order_no
    take_in = {"to": S.AT_BRANCH, "tag_number": t.tag_number, "serial_number": t.serial_number,
               "documents": ["business_licence"]}
    assert client.post(reverse("tickets:transition", args=[no]), take_in).status_code == 404
    assert api(other_engineer).post(f"/api/v1/tickets/{no}/transition/", take_in, format="json").status_code == 404
    assert client.post(reverse("tickets:comment", args=[no]), {"body": "seen"}).status_code == 404
    awaiting.refresh_from_db()
    assert awaiting.status == S.AWAITING_BRANCH
    assert not awaiting.comments.exists()


def test_the_api_list_filtered_by_another_branch_is_empty(engineer, other_engineer, awaiting):
    assert api(other_engineer).get("/api/v1/tickets/?branch=BR001").json()["results"] == []
    assert api(other_engineer).get("/api/v1/tickets/").json()["results"] == []
    listed = api(engineer).get("/api/v1/tickets/?branch=BR001").json()["results"]
    assert [row["service_order_no"] for row in listed] == [awaiting.service_order_no]


def test_the_queue_pages_show_only_the_branch(client, engineer, other_engineer, awaiting):
    url = reverse("tickets:list")
    link = f'href="{awaiting.get_absolute_url()}"'
    client.force_login(other_engineer)
    for query in ("", "?queue=all", f"?q={awaiting.service_order_no}", "?status=awaiting_branch"):
        assert link not in client.get(url + query).content.decode(), query
    client.force_login(engineer)
    for query in ("", "?queue=all", f"?q={awaiting.service_order_no}", "?status=awaiting_branch"):
        assert link in client.get(url + query).content.decode(), query


def test_search_and_terminal_history_hide_another_branch(client, other_engineer, engineer, awaiting):
    no = awaiting.service_order_no
    link = f'href="{awaiting.get_absolute_url()}"'
    search = reverse("insights:search") + f"?q={no}"
    terminal_page = reverse("terminals:detail", args=[awaiting.terminal.serial_number])
    terminal_api = f"/api/v1/terminals/{awaiting.terminal.serial_number}/"

    client.force_login(other_engineer)
    for url in (search, terminal_page):
        response = client.get(url, follow=True)
        assert response.status_code == 200
        assert link not in response.content.decode(), url
    assert api(other_engineer).get(terminal_api).json()["tickets"] == []

    client.force_login(engineer)
    assert client.get(search, follow=True).redirect_chain[-1][0] == awaiting.get_absolute_url()
    assert [t["service_order_no"] for t in api(engineer).get(terminal_api).json()["tickets"]] == [no]


def test_the_dashboard_counts_only_the_branch(client, engineer, other_engineer, ticket_at):
    ticket_at(S.AT_BRANCH)
    from repairs import selectors

    assert selectors.queue_counts(engineer)[S.AT_BRANCH] == 1
    assert selectors.queue_counts(other_engineer)[S.AT_BRANCH] == 0
    assert selectors.branch_overview(engineer, pickup_days=3)["stages"][1]["count"] == 1
    assert selectors.branch_overview(other_engineer, pickup_days=3)["stages"][1]["count"] == 0
    client.force_login(other_engineer)
    assert client.get("/").status_code == 200


def test_tickets_not_sent_to_a_branch_are_not_an_engineers(engineer, ticket_at):
    reported = ticket_at(S.REPORTED)
    assert api(engineer).get(f"/api/v1/tickets/{reported.service_order_no}/").status_code == 404
    assert not FaultTicket.objects.visible_to(engineer).exists()


def test_ratings_of_another_branch_are_not_visible(people, other_engineer, engineer, ticket_at):
    ticket = ticket_at(S.PICKED_UP)
    Satisfaction.objects.create(ticket=ticket, rating=5, rated_by=people["merchant"])
    assert Satisfaction.objects.visible_to(engineer).count() == 1
    assert Satisfaction.objects.visible_to(other_engineer).count() == 0


def test_agents_reviewers_and_admins_see_every_branch(client, agent, awaiting):
    BranchFactory(code="BR002")
    for user in (agent, ReviewerFactory(), AdminFactory()):
        client.force_login(user)
        assert client.get(reverse("tickets:detail", args=[awaiting.service_order_no])).status_code == 200
        assert api(user).get(f"/api/v1/tickets/{awaiting.service_order_no}/").status_code == 200


def test_an_engineers_list_takes_the_same_queries_for_one_ticket_or_many(
    client, engineer, people, django_assert_max_num_queries
):
    make_ticket(people, S.AT_BRANCH)
    client.force_login(engineer)
    with django_assert_max_num_queries(12) as one:
        assert client.get(reverse("tickets:list") + "?queue=all").status_code == 200
    with django_assert_max_num_queries(4) as one_api:
        assert api(engineer).get("/api/v1/tickets/").status_code == 200
    for _ in range(5):
        make_ticket(people, S.AT_BRANCH, terminal=ActiveTerminalFactory(merchant=people["merchant"].merchant))
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(reverse("tickets:list") + "?queue=all").status_code == 200
    with django_assert_max_num_queries(len(one_api.captured_queries)):
        assert len(api(engineer).get("/api/v1/tickets/").json()["results"]) == 6
