"""A real ticket transition (the tickets area's workflow) writes exactly the expected outbox rows,
delivered after commit in each recipient's language."""

import pytest
from django.core import mail

from notifications.models import Notification
from tests.repairs import factories as repairs_factories

pytestmark = pytest.mark.django_db




@pytest.fixture
def people(merchant_user, agent, engineer):
    merchant_user.phone = "13800001234"
    merchant_user.language = "zh-hans"
    merchant_user.save()
    return {"merchant": merchant_user, "agent": agent, "engineer": engineer, "system": None}


def test_it_notifies_the_merchant_of_a_transition_once_per_channel(
    people, django_capture_on_commit_callbacks, sms_outbox
):
    from repairs.workflow import ticket_transition

    ticket = repairs_factories.make_ticket(people, "remote_diagnosis")
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        event = ticket_transition(ticket=ticket, to="awaiting_branch", actor=people["agent"], branch="BR001")
    rows = Notification.objects.filter(event_key=f"ticket-event:{event.pk}")
    merchant_rows = rows.filter(recipient=people["merchant"])
    assert sorted(merchant_rows.values_list("channel", flat=True)) == ["email", "in_app", "sms"]
    assert rows.exclude(recipient=people["merchant"]).filter(recipient__role="merchant").count() == 0
    assert not rows.filter(recipient=people["agent"]).exists()  # the actor is not told of their own change
    assert set(rows.exclude(channel="in_app").values_list("status", flat=True)) == {"sent"}

    merchant_mail = next(m for m in mail.outbox if m.to == [people["merchant"].email])
    assert ticket.service_order_no in merchant_mail.subject and "待到网点" in merchant_mail.subject
    assert "浦东支行" in merchant_mail.body  # where to bring the terminal
    assert len(sms_outbox[0]["text"]) <= 70
