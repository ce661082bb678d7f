"""The ticket page's other actions over the API: comments, attachments, pickup-code reissue,
satisfaction rating, and an agent logging a merchant's call, under the pages' rules."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from notifications.models import Notification
from repairs.models import FaultTicket, RepairRequest, Satisfaction, TicketAttachment, TicketComment
from tests.factories import ActiveTerminalFactory
from tests.repairs.test_pages import png_bytes

pytestmark = pytest.mark.django_db
S = FaultTicket.Status


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def base(ticket):
    return f"/api/v1/tickets/{ticket.service_order_no}/"


def test_internal_comments_are_for_staff_only(ticket_at, merchant_user, agent, other_merchant_user):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    url = base(ticket) + "comments/"
    assert api(agent).post(url, {"body": "内部备注", "is_public": False}, format="json").status_code == 201
    public = api(agent).post(url, {"body": "请重启终端"}, format="json")
    assert public.status_code == 201 and public.json()["is_public"] is True
    # A merchant cannot make its comment internal.
    mine = api(merchant_user).post(url, {"body": "已重启", "is_public": False}, format="json")
    assert mine.status_code == 201 and mine.json()["is_public"] is True
    assert [c["body"] for c in api(merchant_user).get(url).json()["results"]] == ["请重启终端", "已重启"]
    assert [c["body"] for c in api(agent).get(url).json()["results"]] == ["内部备注", "请重启终端", "已重启"]
    assert api(other_merchant_user).get(url).status_code == 404
    assert api(other_merchant_user).post(url, {"body": "x"}, format="json").status_code == 404
    assert TicketComment.objects.count() == 3


def test_a_blank_or_overlong_comment_is_a_field_error(ticket_at, merchant_user):
    url = base(ticket_at()) + "comments/"
    assert "body" in api(merchant_user).post(url, {"body": "  "}, format="json").json()
    assert api(merchant_user).post(url, {"body": "x" * 4001}, format="json").status_code == 400
    assert not TicketComment.objects.exists()


def test_it_uploads_lists_and_downloads_attachments(ticket_at, merchant_user, agent, other_merchant_user):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    url = base(ticket) + "attachments/"
    photo = SimpleUploadedFile("screen.png", png_bytes(), content_type="image/png")
    response = api(merchant_user).post(url, {"file": photo}, format="multipart")
    assert response.status_code == 201, response.content
    item = response.json()
    assert item["content_type"] == "image/png" and item["is_public"] is True
    internal = SimpleUploadedFile("log.png", png_bytes(), content_type="image/png")
    assert api(agent).post(url, {"file": internal, "is_public": False}, format="multipart").status_code == 201
    assert [a["original_name"] for a in api(merchant_user).get(url).json()["results"]] == ["screen.png"]
    assert api(agent).get(url).json()["count"] == 2
    download = api(merchant_user).get(item["url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == png_bytes()
    assert download["Content-Type"] == "image/png"
    assert api(other_merchant_user).get(item["url"]).status_code == 404
    hidden = TicketAttachment.objects.get(is_public=False)
    assert api(merchant_user).get(f"{url}{hidden.pk}/file/").status_code == 404
    assert api(other_merchant_user).get(url).status_code == 404


@pytest.mark.parametrize(("name", "content"), [("notes.txt", b"just text"), ("fake.png", b"MZ\x90\x00 not a png")])
def test_it_refuses_what_the_page_refuses(ticket_at, merchant_user, name, content):
    ticket = ticket_at()
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = api(merchant_user).post(base(ticket) + "attachments/", {"file": upload}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    assert not TicketAttachment.objects.exists()


def test_the_engineer_reissues_the_pickup_code(ticket_at, engineer, merchant_user, agent):
    ticket = ticket_at(S.READY_FOR_PICKUP)
    old = RepairRequest.objects.get(ticket=ticket).pickup_code
    url = base(ticket) + "pickup-code/"
    assert api(agent).post(url).status_code == 403
    response = api(engineer).post(url)
    assert response.status_code == 200 and response.json()["pickup_code"] is None
    new = RepairRequest.objects.get(ticket=ticket).pickup_code
    assert new != old
    assert api(merchant_user).get(base(ticket)).json()["pickup_code"] == new


def test_no_pickup_code_before_ready(ticket_at, engineer):
    ticket = ticket_at(S.REPAIRING)
    response = api(engineer).post(base(ticket) + "pickup-code/")
    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.version == FaultTicket.objects.get(pk=ticket.pk).version


def test_the_merchant_rates_a_finished_repair_once(ticket_at, merchant_user, agent, other_merchant_user):
    ticket = ticket_at(S.RESOLVED_REMOTELY)
    url = base(ticket) + "rating/"
    assert api(agent).post(url, {"rating": 5}, format="json").status_code == 403
    assert api(other_merchant_user).post(url, {"rating": 5}, format="json").status_code == 404
    assert api(merchant_user).post(url, {"rating": 6}, format="json").status_code == 400
    assert api(merchant_user).post(url, {"rating": "9" * 40}, format="json").status_code == 400
    response = api(merchant_user).post(url, {"rating": 4, "comment": "很快"}, format="json")
    assert response.status_code == 201 and response.json()["rating"] == 4
    assert api(merchant_user).post(url, {"rating": 1}, format="json").status_code == 409
    assert Satisfaction.objects.get().rating == 4


def test_an_open_repair_cannot_be_rated(ticket_at, merchant_user):
    response = api(merchant_user).post(base(ticket_at(S.REPAIRING)) + "rating/", {"rating": 5}, format="json")
    assert response.status_code == 409 and not Satisfaction.objects.exists()


def test_an_agent_logs_a_call_for_the_merchant(agent, merchant, merchant_user, other_merchant_user):
    terminal = ActiveTerminalFactory(merchant=merchant)
    body = {"terminal": terminal.serial_number, "merchant": merchant.pk, "fault_type": "cannot_accept_payment",
            "symptoms": "刷卡无反应", "priority": "high"}
    assert api(merchant_user).post("/api/v1/tickets/log-call/", body, format="json").status_code == 403
    wrong = api(agent).post("/api/v1/tickets/log-call/", {**body, "merchant": other_merchant_user.merchant_id},
                            format="json")
    assert wrong.status_code == 400 and "terminal" in wrong.json()
    response = api(agent).post("/api/v1/tickets/log-call/", body, format="json")
    assert response.status_code == 201, response.content
    ticket = FaultTicket.objects.get(service_order_no=response.json()["service_order_no"])
    assert ticket.source == FaultTicket.Source.PHONE and ticket.merchant == merchant
    assert ticket.priority == "high" and response.json()["source"] == "phone"
    assert Notification.objects.filter(recipient=merchant_user).exists()
    again = api(agent).post("/api/v1/tickets/log-call/", body, format="json")
    assert again.status_code == 400 and "terminal" in again.json()


def test_a_call_for_an_unknown_terminal_is_a_field_error(agent):
    response = api(agent).post("/api/v1/tickets/log-call/", {"terminal": "NOPE", "fault_type": "printer",
                                                            "symptoms": "x"}, format="json")
    assert response.status_code == 400 and "terminal" in response.json()


@pytest.mark.parametrize("size", [2, 20])
def test_comments_and_files_list_in_constant_queries(ticket_at, agent, size, django_assert_max_num_queries):
    from repairs import workflow

    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    for i in range(size):
        workflow.add_comment(ticket=ticket, author=agent, body=f"备注 {i}", is_public=i % 2 == 0)
        TicketAttachment.objects.create(ticket=ticket, file=f"ticket-files/x{i}.png", content_type="image/png",
                                        original_name=f"x{i}.png", size=1, uploaded_by=agent)
    client = api(agent)
    with django_assert_max_num_queries(6):
        assert client.get(base(ticket) + "comments/").json()["count"] == size
    with django_assert_max_num_queries(6):
        assert client.get(base(ticket) + "attachments/").json()["count"] == size
