"""The merchant's and the reviewer's pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.models import Application
from repairs.models import FaultTicket
from tests.applications import factories as f
from tests.factories import ChannelFactory, MerchantUserFactory

pytestmark = pytest.mark.django_db


def test_it_shows_the_fee_plans_with_their_terms(merchant_client, channel):
    page = merchant_client.get(reverse("applications:apply")).content.decode()
    assert "299" in page and "300,000" in page and "10" in page
    assert 'value="purchase"' in page and 'value="deposit"' in page and 'value="free"' in page


def test_it_creates_a_new_application_from_the_form(merchant_client, channel):
    response = merchant_client.post(reverse("applications:apply"), {
        "kind": "new", "channel": channel.code, "quantity": "2", "fee_plan": "deposit", "remarks": "新开分店",
    })
    app = Application.objects.get()
    assert response.status_code == 302 and response["Location"] == app.get_absolute_url()
    assert (app.kind, app.quantity, app.fee_plan, app.status, app.remarks) == ("new", 2, "deposit", "draft", "新开分店")


def test_it_prefills_a_replacement_from_the_ticket(merchant_client, merchant, channel):
    ChannelFactory(code="YINXIN")
    ticket = f.unrepairable_ticket(merchant, channel)
    page = merchant_client.get(reverse("applications:apply") + f"?ticket={ticket.service_order_no}")
    html = page.content.decode()
    assert ticket.service_order_no in html and ticket.terminal.serial_number in html
    assert f'<option value="{channel.code}" selected' in html
    response = merchant_client.post(reverse("applications:apply"), {
        "kind": "replacement", "ticket": ticket.service_order_no, "channel": channel.code, "quantity": "1",
        "fee_plan": "free",
    })
    app = Application.objects.get()
    assert response.status_code == 302 and (app.kind, app.ticket) == ("replacement", ticket)
    ticket.refresh_from_db()
    assert ticket.status == FaultTicket.Status.REPLACEMENT


def test_another_merchants_ticket_cannot_prefill(other_client, merchant, channel):
    ticket = f.unrepairable_ticket(merchant, channel)
    assert other_client.get(reverse("applications:apply") + f"?ticket={ticket.service_order_no}").status_code == 404


def test_staff_do_not_apply(reviewer_client):
    assert reviewer_client.get(reverse("applications:apply")).status_code == 403


def test_the_merchant_follows_its_application_on_a_timeline(merchant_client, make_app):
    app = make_app("needs_info")
    page = merchant_client.get(app.get_absolute_url()).content.decode()
    assert 'data-testid="needs-info"' in page and "营业执照模糊" in page
    assert 'data-testid="timeline"' in page
    # The merchant's possible steps only: resubmit or withdraw; no reviewer forms.
    assert 'id="transition-submitted"' in page and 'id="transition-withdrawn"' in page
    assert 'id="transition-inspection"' not in page and 'name="interview_date"' not in page
    assert 'data-testid="upload-form"' in page


def test_the_merchant_withdraws_before_approval_only(merchant_client, make_app):
    app = make_app("inspection")
    merchant_client.post(reverse("applications:transition", args=[app.number]), {"to": "withdrawn", "note": "不需要了"})
    app.refresh_from_db()
    assert app.status == "withdrawn"
    approved = make_app("approved")
    response = merchant_client.post(reverse("applications:transition", args=[approved.number]), {"to": "withdrawn"})
    assert response.status_code == 302
    approved.refresh_from_db()
    assert approved.status == "approved"


def test_a_merchant_cannot_make_a_reviewers_transition(merchant_client, make_app):
    app = make_app("submitted")
    response = merchant_client.post(reverse("applications:transition", args=[app.number]), {"to": "under_review"})
    assert response.status_code == 403


def test_the_reviewer_sees_the_forms_for_the_current_step(reviewer_client, make_app):
    app = make_app("inspection")
    page = reviewer_client.get(app.get_absolute_url()).content.decode()
    assert 'name="interview_date"' in page and 'id="transition-approved"' in page and 'id="transition-rejected"' in page
    assert 'id="transition-withdrawn"' not in page


def test_the_reviewer_records_the_inspection_then_approves(reviewer_client, make_app):
    app = make_app("inspection")
    today = timezone.localdate()
    reviewer_client.post(reverse("applications:inspection", args=[app.number]), {
        "interview_date": (today - timedelta(days=2)).isoformat(), "interview_notes": "法人面谈",
        "inspection_date": today.isoformat(), "inspection_notes": "门店与执照地址一致",
    })
    reviewer_client.post(reverse("applications:transition", args=[app.number]), {"to": "approved", "fee_plan": "free"})
    app.refresh_from_db()
    assert (app.status, app.fee_plan, app.inspection_notes) == ("approved", "free", "门店与执照地址一致")


def test_the_assignment_form_offers_in_stock_terminals_of_the_channel(reviewer_client, make_app, merchant):
    app = make_app("contract_signed")
    good = f.terminal(app.channel)
    other = f.terminal(ChannelFactory(code="YINXIN"))
    active = f.terminal(app.channel, merchant=merchant, status="active")
    page = reviewer_client.get(app.get_absolute_url()).content.decode()
    assert good.serial_number in page
    assert other.serial_number not in page and active.serial_number not in page
    reviewer_client.post(reverse("applications:transition", args=[app.number]),
                         {"to": "device_assigned", "terminal": good.serial_number})
    good.refresh_from_db()
    assert good.status == "pending_activation"


def test_the_reviewer_records_the_old_terminals_destruction_on_the_page(reviewer_client, merchant_user, merchant,
                                                                          reviewer, channel):
    ticket = f.unrepairable_ticket(merchant, channel)
    app = f.application(merchant_user, channel, kind="replacement", ticket=ticket)
    f.advance(app, "device_assigned", merchant_user=merchant_user, reviewer=reviewer)
    page = reviewer_client.get(app.get_absolute_url()).content.decode()
    assert 'name="certificate_number"' in page
    reviewer_client.post(reverse("applications:deregistration", args=[app.number]), {
        "method": "destroyed", "certificate_number": "XH-01", "witness": "赵六", "date": timezone.localdate().isoformat(),
    })
    assert ticket.terminal.deregistrations.get().certificate_number == "XH-01"


def test_the_queue_is_oldest_first_and_filters(reviewer_client, make_app, merchant_user, channel):
    first = make_app("submitted")
    second = make_app("submitted")
    Application.objects.filter(pk=first.pk).update(submitted_at=timezone.now() - timedelta(days=3))
    draft = make_app("draft")
    other_channel = ChannelFactory(code="YINXIN")
    elsewhere = f.application(merchant_user, other_channel)
    f.advance(elsewhere, "submitted", merchant_user=merchant_user, reviewer=None)
    page = reviewer_client.get(reverse("applications:queue")).content.decode()
    assert page.index(first.number) < page.index(second.number) and draft.number not in page
    filtered = reviewer_client.get(reverse("applications:queue"), {"channel": "YINXIN"}).content.decode()
    assert elsewhere.number in filtered and first.number not in filtered
    by_kind = reviewer_client.get(reverse("applications:queue"), {"kind": "replacement"}).content.decode()
    assert first.number not in by_kind
    by_status = reviewer_client.get(reverse("applications:queue"), {"status": "draft"}).content.decode()
    assert draft.number in by_status and first.number not in by_status


def test_the_queue_is_for_reviewers(merchant_client, agent_client):
    assert merchant_client.get(reverse("applications:queue")).status_code == 403
    assert agent_client.get(reverse("applications:queue")).status_code == 403


def _bulk(n, channel):
    """n submitted applications of n merchants, fast (no files): the queue's rows."""
    for _ in range(n):
        user = MerchantUserFactory()
        app = f.application(user, channel)
        Application.objects.filter(pk=app.pk).update(status="submitted", submitted_at=timezone.now())


@pytest.mark.parametrize("size", [3, 30])
def test_the_queue_runs_a_constant_number_of_queries(reviewer_client, channel, size, django_assert_max_num_queries):
    _bulk(size, channel)
    with django_assert_max_num_queries(8):
        response = reviewer_client.get(reverse("applications:queue"))
    assert response.status_code == 200 and response.content.decode().count('data-testid="queue-link"') == min(size, 25)


@pytest.mark.parametrize("size", [2, 12])
def test_the_merchants_list_runs_a_constant_number_of_queries(merchant_client, merchant_user, make_app, size,
                                                             django_assert_max_num_queries):
    for _ in range(size):
        make_app("activated", fee_plan="deposit")
    with django_assert_max_num_queries(8):
        response = merchant_client.get(reverse("applications:list"))
    assert response.content.decode().count('data-testid="application-link"') == size


def test_the_navigation_shows_applications_by_role(merchant_client, client, reviewer, agent):
    assert reverse("applications:list") in merchant_client.get(reverse("home")).content.decode()
    client.force_login(reviewer)
    home = client.get(reverse("home")).content.decode()
    assert reverse("applications:queue") in home and 'data-testid="review-panel"' in home
    client.force_login(agent)
    assert reverse("applications:queue") not in client.get(reverse("home")).content.decode()


def test_the_merchant_home_lists_applications_in_progress(merchant_client, make_app):
    app = make_app("submitted")
    gone = make_app("withdrawn")
    home = merchant_client.get(reverse("home")).content.decode()
    assert 'data-testid="applications-panel"' in home
    panel = home.split('data-testid="applications-panel"', 1)[1].split("</ul>", 1)[0]
    assert app.number in panel and gone.number not in panel
