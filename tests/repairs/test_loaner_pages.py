"""Loaner pages and their API twins: the ticket's loaner panel, the pool, a loaner's history."""

import pytest
from django.urls import reverse

from repairs.models import FaultTicket, Loan
from terminals import loaners as pool
from terminals.models import Terminal
from tests.factories import AdminFactory, EngineerFactory, TerminalFactory
from tests.repairs.factories import make_ticket

S = FaultTicket.Status


def make_loaner(branch):
    loaner = TerminalFactory()
    pool.add_to_pool(terminal=loaner, branch=branch, actor=AdminFactory())
    return loaner


@pytest.fixture
def at_branch(people):
    return make_ticket(people, S.AT_BRANCH)


@pytest.fixture
def loaner(branch):
    return make_loaner(branch)


def lend_page(client, ticket, loaner, **extra):
    data = {"serial_number": loaner.serial_number, "tag_number": loaner.tag_number, **extra}
    return client.post(reverse("tickets:loaner_lend", args=[ticket.service_order_no]), data)


@pytest.mark.django_db
def test_it_lends_on_the_ticket_page_and_the_merchant_sees_it_everywhere(
    engineer_client, client, at_branch, loaner, merchant_user
):
    page = engineer_client.get(at_branch.get_absolute_url())
    assert b'data-testid="loaner-lend-form"' in page.content
    response = lend_page(engineer_client, at_branch, loaner, tid="L7654321")
    assert response.status_code == 302
    notice = f"On loan: {loaner.serial_number} — return it at pickup."
    client.force_login(merchant_user)
    for url in (at_branch.get_absolute_url(), reverse("terminals:mine"), "/"):
        assert notice in client.get(url).content.decode(), url
    assert b"loaner-return-form" not in client.get(at_branch.get_absolute_url()).content


@pytest.mark.django_db
def test_it_shows_a_wrong_tag_as_a_field_error_and_changes_nothing(engineer_client, at_branch, loaner):
    response = lend_page(engineer_client, at_branch, loaner, tag_number="TAG-WRONG")
    assert response.status_code == 400
    assert "This is not the tag of loaner" in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode() or "is-invalid" in response.content.decode()
    assert not Loan.objects.exists()


@pytest.mark.django_db
def test_it_is_a_404_to_another_merchant_and_to_an_engineer_of_another_branch(
    client, other_merchant_user, at_branch, loaner
):
    client.force_login(other_merchant_user)
    assert lend_page(client, at_branch, loaner).status_code == 404
    client.force_login(EngineerFactory())  # another branch's: the ticket is not there for it
    assert lend_page(client, at_branch, loaner).status_code == 404
    assert not Loan.objects.exists()


@pytest.mark.django_db
def test_it_returns_at_pickup_on_the_page_and_inspects_back_into_the_pool(engineer_client, at_branch, loaner):
    lend_page(engineer_client, at_branch, loaner)
    url = reverse("tickets:loaner_return", args=[at_branch.service_order_no])
    response = engineer_client.post(url, {"outcome": "returned", "serial_number": loaner.serial_number,
                                          "tag_number": loaner.tag_number})
    assert response.status_code == 302
    loaner.refresh_from_db()
    assert loaner.loaner_state == Terminal.LoanerState.INSPECTION
    pool_page = engineer_client.get(reverse("tickets:loaner_pool")).content.decode()
    assert "Cleaned and inspected: back to the pool" in pool_page
    response = engineer_client.post(reverse("tickets:loaner_inspect", args=[loaner.serial_number]),
                                    {"note": "Cleaned, test payment passed"})
    assert response.status_code == 302
    loaner.refresh_from_db()
    assert loaner.loaner_state == Terminal.LoanerState.AVAILABLE
    history = engineer_client.get(reverse("tickets:loaner_history", args=[loaner.serial_number])).content.decode()
    assert at_branch.service_order_no in history and "Returned" in history


@pytest.mark.django_db
def test_it_shows_each_engineer_only_its_branchs_pool(client, engineer_client, branch, merchant_user):
    mine = make_loaner(branch)
    other_engineer = EngineerFactory()
    theirs = make_loaner(other_engineer.branch)
    page = engineer_client.get(reverse("tickets:loaner_pool")).content.decode()
    assert mine.serial_number in page and theirs.serial_number not in page
    assert engineer_client.get(reverse("tickets:loaner_history", args=[theirs.serial_number])).status_code == 404
    client.force_login(merchant_user)
    assert client.get(reverse("tickets:loaner_pool")).status_code == 403
    admin = AdminFactory()
    client.force_login(admin)
    page = client.get(reverse("tickets:loaner_pool")).content.decode()
    assert mine.serial_number in page and theirs.serial_number in page


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 12])
def test_it_builds_the_pool_page_in_the_same_queries_whatever_its_size(
    engineer_client, people, branch, engineer, size, django_assert_max_num_queries
):
    from repairs import loans

    for i in range(size):
        loaner = make_loaner(branch)
        if i % 2 == 0:
            ticket = make_ticket(people, S.AT_BRANCH)
            loans.lend_loaner(ticket=ticket, actor=engineer, serial_number=loaner.serial_number,
                              tag_number=loaner.tag_number)
    with django_assert_max_num_queries(12):
        response = engineer_client.get(reverse("tickets:loaner_pool"))
    assert response.status_code == 200


# --- API twins -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_api_lends_refuses_a_second_and_returns(engineer_client, at_branch, loaner, branch):
    url = f"/api/v1/tickets/{at_branch.service_order_no}/loaner/"
    bad = engineer_client.post(url, {"serial_number": loaner.serial_number, "tag_number": "NOPE"},
                               content_type="application/json")
    assert bad.status_code == 400 and "tag_number" in bad.json()
    missing = engineer_client.post(url, {}, content_type="application/json")
    assert missing.status_code == 400 and "serial_number" in missing.json()
    ok = engineer_client.post(url, {"serial_number": loaner.serial_number, "tag_number": loaner.tag_number,
                                    "mid": "898310000000042"}, content_type="application/json")
    assert ok.status_code == 201, ok.json()
    assert ok.json()["outcome"] == "out" and ok.json()["mid"] == "898310000000042"
    second = make_loaner(branch)
    again = engineer_client.post(url, {"serial_number": second.serial_number, "tag_number": second.tag_number},
                                 content_type="application/json")
    assert again.status_code == 409
    pickup = engineer_client.post(f"/api/v1/tickets/{at_branch.service_order_no}/loaner/return/",
                                  {"outcome": "missing"}, content_type="application/json")
    assert pickup.status_code == 400 and "note" in pickup.json()
    gone = engineer_client.post(f"/api/v1/tickets/{at_branch.service_order_no}/loaner/return/",
                                {"outcome": "missing", "note": "lost"}, content_type="application/json")
    assert gone.status_code == 200 and gone.json()["outcome"] == "missing"


@pytest.mark.django_db
def test_api_lists_the_pool_with_history_and_inspects(engineer_client, client, merchant_user, at_branch, loaner):
    engineer_client.post(f"/api/v1/tickets/{at_branch.service_order_no}/loaner/",
                         {"serial_number": loaner.serial_number, "tag_number": loaner.tag_number},
                         content_type="application/json")
    engineer_client.post(f"/api/v1/tickets/{at_branch.service_order_no}/loaner/return/",
                         {"serial_number": loaner.serial_number, "tag_number": loaner.tag_number},
                         content_type="application/json")
    listing = engineer_client.get("/api/v1/loaners/").json()
    rows = listing["results"] if isinstance(listing, dict) else listing
    assert [r["state"] for r in rows] == ["inspection"]
    detail = engineer_client.get(f"/api/v1/loaners/{loaner.serial_number}/").json()
    assert detail["loans"][0]["ticket"] == at_branch.service_order_no
    url = f"/api/v1/loaners/{loaner.serial_number}/inspection/"
    assert engineer_client.post(url, {}, content_type="application/json").status_code == 400
    done = engineer_client.post(url, {"note": "cleaned"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["state"] == "available"
    client.force_login(merchant_user)
    assert client.get(f"/api/v1/loaners/{loaner.serial_number}/").status_code == 404


@pytest.mark.django_db
def test_it_reports_loaner_utilisation_to_reviewers(client, reviewer, people, branch, engineer):
    from datetime import timedelta

    from django.utils import timezone

    from repairs import loans

    lent = []
    for _ in range(3):
        loaner = make_loaner(branch)
        ticket = make_ticket(people, S.AT_BRANCH)
        lent.append((ticket, loans.lend_loaner(ticket=ticket, actor=engineer, serial_number=loaner.serial_number,
                                               tag_number=loaner.tag_number)))
    (t1, l1), (t2, l2), _ = lent
    Loan.objects.filter(pk__in=[l1.pk, l2.pk]).update(lent_at=timezone.now() - timedelta(days=4))
    loans.return_loaner(ticket=t1, actor=engineer, serial_number=l1.serial_number, tag_number=l1.tag_number)
    loans.return_loaner(ticket=t2, actor=engineer, outcome="missing", note="lost")
    client.force_login(reviewer)
    page = client.get(reverse("insights:reports")).content.decode()
    assert 'data-testid="loaners-out">1<' in page
    assert 'data-testid="loaners-missing">1<' in page
    assert 'data-testid="loaners-days">4.0<' in page


@pytest.mark.django_db
def test_api_keeps_the_pool_from_anonymous_callers(client, loaner):
    assert client.get("/api/v1/loaners/").status_code in (401, 403)
    assert client.post(f"/api/v1/loaners/{loaner.serial_number}/inspection/", {"note": "x"}).status_code in (401, 403)


def _loan_queries(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        page = client.get(path)
    assert page.status_code == 200
    return page.content.decode(), [q["sql"] for q in ctx.captured_queries if '"repairs_loan"' in q["sql"]]


@pytest.mark.django_db(transaction=True)  # the cache is filled only outside a transaction, as on a real request
def test_the_utilisation_is_read_from_the_cache_and_a_loan_lent_or_returned_counts_at_once(
    client, reviewer, people, branch, engineer
):
    from repairs import loans

    other_branch_engineer = EngineerFactory()
    client.force_login(reviewer)
    reports = reverse("insights:reports")
    page, queries = _loan_queries(client, reports)
    assert 'data-testid="loaners-out">0<' in page and len(queries) == 1
    page, queries = _loan_queries(client, reports)
    assert 'data-testid="loaners-out">0<' in page and queries == []  # from the cache
    assert loans.utilisation(engineer)["out_now"] == 0  # the branch's own entry, kept as well

    loaner = make_loaner(branch)
    ticket = make_ticket(people, S.AT_BRANCH)
    loans.lend_loaner(ticket=ticket, actor=engineer, serial_number=loaner.serial_number, tag_number=loaner.tag_number)
    page, queries = _loan_queries(client, reports)
    assert 'data-testid="loaners-out">1<' in page and len(queries) == 1
    assert loans.utilisation(engineer)["out_now"] == 1  # the lending branch's entry was forgotten too
    assert loans.utilisation(other_branch_engineer)["out_now"] == 0  # another pool's count is its own

    loans.return_loaner(ticket=ticket, actor=engineer, outcome="missing", note="lost")
    page, _ = _loan_queries(client, reports)
    assert 'data-testid="loaners-out">0<' in page and 'data-testid="loaners-missing">1<' in page
    Loan.objects.get().delete()
    page, _ = _loan_queries(client, reports)
    assert 'data-testid="loaners-missing">0<' in page
