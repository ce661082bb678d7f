"""Every transition tells the merchant (and the reviewer in charge), written with the change."""

import pytest
from django.urls import reverse

from applications.workflow import application_transition
from notifications.models import Notification
from portal.core.workflow import WorkflowError
from tests.applications import factories as f

pytestmark = pytest.mark.django_db


def test_it_notifies_the_merchant_of_each_transition_once(make_app, merchant_user, reviewer,
                                                          django_capture_on_commit_callbacks):
    app = make_app("submitted")
    with django_capture_on_commit_callbacks(execute=True):
        event = application_transition(application=app, to="under_review", actor=reviewer, note="开始审核")
    rows = Notification.objects.filter(event_key=f"application-event:{event.pk}")
    assert {n.recipient for n in rows} == {merchant_user}
    in_app = rows.get(channel="in_app")
    assert in_app.kind == "application.status" and in_app.url == app.get_absolute_url()
    assert in_app.context["application_number"] == app.number
    assert (in_app.context["from_status"], in_app.context["to_status"]) == ("submitted", "under_review")


def test_it_tells_the_reviewer_in_charge_when_the_merchant_acts(make_app, merchant_user, reviewer):
    app = make_app("needs_info")
    f.workflow.add_document(application=app, kind="business_licence", uploaded=f.pdf(),
                            content_type="application/pdf", actor=merchant_user)
    event = application_transition(application=app, to="submitted", actor=merchant_user, note="已补充")
    recipients = set(Notification.objects.filter(event_key=f"application-event:{event.pk}")
                     .values_list("recipient__username", flat=True))
    assert recipients == {merchant_user.username, reviewer.username}


def test_a_refused_transition_notifies_nobody(make_app, merchant_user):
    app = make_app("submitted")
    before = Notification.objects.count()
    with pytest.raises(WorkflowError):
        application_transition(application=app, to="approved", actor=merchant_user)
    assert Notification.objects.count() == before


def test_the_admin_shows_applications_read_only_with_their_next_steps(client, admin_user, make_app):
    app = make_app("submitted")
    client.force_login(admin_user)
    assert client.get(reverse("admin:applications_application_changelist")).status_code == 200
    page = client.get(reverse("admin:applications_application_change", args=[app.pk]))
    assert page.status_code == 200 and "Under review" in page.content.decode()
