"""The tickets API of DESIGN.md: list/create/detail/transition and their status codes."""

import pytest
from rest_framework.test import APIClient

from repairs.models import FaultTicket
from tests.factories import ActiveTerminalFactory, BranchFactory, EngineerFactory

pytestmark = pytest.mark.django_db
S = FaultTicket.Status


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(ticket=None, transition=False):
    if ticket is None:
        return "/api/v1/tickets/"
    return f"/api/v1/tickets/{ticket.service_order_no}/" + ("transition/" if transition else "")


def test_it_creates_a_ticket_for_the_merchants_terminal(merchant_user, terminal):
    response = api(merchant_user).post(
        url(), {"terminal": terminal.serial_number, "fault_type": "printer", "symptoms": "no paper"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "reported"
    assert body["service_order_no"].startswith("SO")
    assert FaultTicket.objects.get().source == "api"


@pytest.mark.parametrize("which", ["unknown", "other merchant's"])
def test_it_answers_404_for_a_terminal_the_merchant_cannot_see(merchant_user, other_merchant_user, which):
    serial = "NOPE-0001" if which == "unknown" else ActiveTerminalFactory(merchant=other_merchant_user.merchant).serial_number
    response = api(merchant_user).post(url(), {"terminal": serial, "fault_type": "printer", "symptoms": "x"},
                                       format="json")
    assert response.status_code == 404
    assert not FaultTicket.objects.exists()


def test_it_answers_400_for_bad_fields_and_a_second_open_ticket(merchant_user, terminal):
    client = api(merchant_user)
    bad = client.post(url(), {"terminal": terminal.serial_number, "fault_type": "broken"}, format="json")
    assert bad.status_code == 400 and {"fault_type", "symptoms"} <= set(bad.json())
    data = {"terminal": terminal.serial_number, "fault_type": "printer", "symptoms": "x"}
    assert client.post(url(), data, format="json").status_code == 201
    second = client.post(url(), data, format="json")
    assert second.status_code == 400 and "terminal" in second.json()
    assert FaultTicket.objects.count() == 1


def test_it_lists_only_visible_tickets_with_filters(merchant_user, agent, other_merchant_user, ticket_at):
    mine = ticket_at(S.REMOTE_DIAGNOSIS)
    body = api(merchant_user).get(url()).json()
    assert [t["service_order_no"] for t in body["results"]] == [mine.service_order_no]
    assert len(api(other_merchant_user).get(url()).json()["results"]) == 0
    assert len(api(agent).get(url(), {"status": "reported"}).json()["results"]) == 0
    assert len(api(agent).get(url(), {"status": "remote_diagnosis"}).json()["results"]) == 1
    assert len(api(agent).get(url(), {"terminal": mine.terminal.serial_number}).json()["results"]) == 1
    assert len(api(agent).get(url(), {"overdue": "true"}).json()["results"]) == 0


def test_it_shows_the_detail_with_public_events_and_the_pickup_code_only_to_its_merchant(
    merchant_user, engineer, people, ticket_at
):
    ticket = ticket_at(S.READY_FOR_PICKUP)
    from repairs.workflow import add_comment  # noqa: F401 - events only; comments are separate

    body = api(merchant_user).get(url(ticket)).json()
    assert body["status"] == "ready_for_pickup"
    assert body["agent_name"] == people["agent"].display_name
    assert body["branch"]["code"] == "BR001"
    assert body["pickup_code"] == ticket.repair_request.pickup_code
    assert [e["to_status"] for e in body["events"]][:2] == ["reported", "remote_diagnosis"]
    assert all(e["is_public"] for e in body["events"])
    staff = api(engineer).get(url(ticket)).json()
    assert staff["pickup_code"] is None
    assert "picked_up" in staff["allowed_transitions"]


def test_it_answers_404_for_another_merchants_ticket(other_merchant_user, ticket_at):
    ticket = ticket_at(S.RESOLVED_REMOTELY)
    client = api(other_merchant_user)
    assert client.get(url(ticket)).status_code == 404
    assert client.post(url(ticket, True), {"to": "closed"}, format="json").status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == S.RESOLVED_REMOTELY


def test_it_makes_a_transition_and_answers_200(agent, ticket_at):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    response = api(agent).post(url(ticket, True), {"to": "awaiting_branch", "branch": "BR001", "note": "visit"},
                               format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "awaiting_branch"
    assert response.json()["branch"]["code"] == "BR001"


def test_it_answers_403_for_the_wrong_role(merchant_user, ticket_at):
    ticket = ticket_at(S.REPORTED)
    response = api(merchant_user).post(url(ticket, True), {"to": "remote_diagnosis"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_it_answers_404_to_an_engineer_of_another_branch(ticket_at):
    ticket = ticket_at(S.AWAITING_BRANCH)
    other = EngineerFactory(branch=BranchFactory(code="BR007"))
    t = ticket.terminal
    response = api(other).post(url(ticket, True), {"to": "at_branch", "tag_number": t.tag_number,
                                                   "serial_number": t.serial_number, "documents": ["operator_id"]},
                               format="json")
    assert response.status_code == 404  # like another merchant's ticket: not even its existence
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_BRANCH


def test_it_answers_409_when_not_allowed_now_or_stale(agent, merchant_user, ticket_at):
    ticket = ticket_at(S.REPORTED)
    client = api(agent)
    assert client.post(url(ticket, True), {"to": "picked_up", "pickup_code": "1"}, format="json").status_code == 409
    seen = ticket.version
    assert client.post(url(ticket, True), {"to": "remote_diagnosis", "version": seen}, format="json").status_code == 200
    stale = api(merchant_user).post(url(ticket, True), {"to": "cancelled", "reason": "x", "version": seen},
                                    format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"


def test_it_answers_400_with_field_errors(engineer, ticket_at):
    ticket = ticket_at(S.AWAITING_BRANCH)
    response = api(engineer).post(url(ticket, True), {"to": "at_branch", "tag_number": "WRONG",
                                                      "serial_number": ticket.terminal.serial_number,
                                                      "documents": []}, format="json")
    assert response.status_code == 400
    assert {"tag_number", "documents"} <= set(response.json())
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_BRANCH


def test_it_runs_a_whole_branch_repair_through_the_api(merchant_user, agent, engineer, terminal):
    BranchFactory(code="BR001")
    m, a, e = api(merchant_user), api(agent), api(engineer)
    so = m.post(url(), {"terminal": terminal.serial_number, "fault_type": "card_reader", "symptoms": "x"},
                format="json").json()["service_order_no"]
    t = FaultTicket.objects.get(service_order_no=so)

    def go(client, **data):
        response = client.post(url(t, True), data, format="json")
        assert response.status_code == 200, response.json()
        return response.json()

    go(a, to="remote_diagnosis")
    go(a, to="awaiting_branch", branch="BR001")
    go(e, to="at_branch", tag_number=terminal.tag_number, serial_number=terminal.serial_number,
       documents=["account_opening_permit", "business_licence", "operator_id"])
    go(e, to="diagnosing")
    go(e, to="repairing", diagnosis="reader head")
    go(e, to="network_testing", work_done="new reader head")
    go(e, to="repairing", test_passed=False, note="no host response")
    go(e, to="network_testing", work_done="reseated cable")
    go(e, to="ready_for_pickup", test_passed=True)
    code = m.get(url(t)).json()["pickup_code"]
    assert code
    assert e.post(url(t, True), {"to": "picked_up", "pickup_code": "x"}, format="json").status_code == 400
    go(e, to="picked_up", pickup_code=code)
    assert m.get(url(t)).json()["pickup_code"] is None
    assert go(m, to="closed")["status"] == "closed"
    assert len(m.get(url(t)).json()["network_tests"]) == 2


def test_it_documents_the_endpoints_in_the_schema(agent_client):
    schema = agent_client.get("/api/schema/").content.decode()
    assert "/api/v1/tickets/{service_order_no}/transition/" in schema


def test_the_list_pages_with_a_cursor_newest_first_without_gaps_or_repeats(agent, merchant_user):
    from repairs.workflow import create_ticket

    made = [
        create_ticket(terminal=ActiveTerminalFactory(merchant=merchant_user.merchant), actor=merchant_user,
                               fault_type="printer", symptoms="x").service_order_no
        for _ in range(30)
    ]
    client = api(agent)
    first = client.get(url()).json()
    assert len(first["results"]) == 25 and first["previous"] is None and first["next"]
    second = client.get(first["next"]).json()
    seen = [t["service_order_no"] for t in first["results"] + second["results"]]
    assert sorted(seen) == sorted(made) and len(set(seen)) == 30
    assert seen == list(reversed(made))  # newest first
    assert second["next"] is None
    assert client.get(url(), {"cursor": "not-a-cursor"}).status_code == 404


def test_the_list_rows_are_what_drfs_own_serializer_gives_for_every_kind_of_ticket(agent, ticket_at):
    """The list reads its rows by a plan (RowSerializerMixin): the same JSON as DRF's field walk, for
    tickets with and without a branch, an SLA clock, an overdue flag, a closing date."""
    import datetime
    import json

    from django.utils import timezone
    from rest_framework.renderers import JSONRenderer

    from repairs.api import TicketSerializer

    kinds = [ticket_at(S.REPORTED), ticket_at(S.AWAITING_BRANCH), ticket_at(S.READY_FOR_PICKUP),
             ticket_at(S.CLOSED), ticket_at(S.REMOTE_DIAGNOSIS)]
    FaultTicket.objects.filter(pk=kinds[-1].pk).update(sla_due_at=timezone.now() - datetime.timedelta(hours=3))
    rows = api(agent).get(url()).json()["results"]
    tickets = FaultTicket.objects.select_related("terminal", "merchant", "branch").order_by("-created_at", "-pk")
    assert rows == json.loads(JSONRenderer().render(TicketSerializer(tickets, many=True).data))
    shown = {row["service_order_no"]: row for row in rows}
    assert shown[kinds[0].service_order_no]["branch"] is None
    assert shown[kinds[1].service_order_no]["branch"]["code"]
    assert shown[kinds[3].service_order_no]["closed_at"]
    assert shown[kinds[-1].service_order_no]["overdue"] is True
    assert shown[kinds[-1].service_order_no]["sla_due_at"].endswith("+08:00")  # Asia/Shanghai, as DRF writes it


@pytest.mark.parametrize("who", ["merchant", "agent", "engineer"])
def test_a_tickets_answer_is_what_drfs_own_field_walk_gives(people, ticket_at, who, monkeypatch):
    """A ticket's answer (detail, create, transition) and its events, network tests and repair
    request are read by plans (RowSerializerMixin), method fields included: the same JSON as DRF's
    own walk of the fields, for each role (the pickup code only for the ticket's merchant)."""
    from rest_framework import serializers

    from portal.core.api import RowSerializerMixin

    ticket = ticket_at(S.READY_FOR_PICKUP)
    client = api(people[who])
    planned = client.get(url(ticket)).json()
    assert planned["events"] and planned["network_tests"] and planned["repair_request"]["form_number"]
    assert all(event["actor"] for event in planned["events"])
    assert (planned["pickup_code"] is not None) == (who == "merchant")
    monkeypatch.setattr(RowSerializerMixin, "to_representation",
                        lambda self, instance: serializers.Serializer.to_representation(self, instance))
    assert client.get(url(ticket)).json() == planned


def test_a_row_serializer_refuses_hyperlinks_which_need_the_request():
    from rest_framework import serializers

    from portal.core.api import RowSerializerMixin

    class Rows(RowSerializerMixin, serializers.ModelSerializer):
        terminal_url = serializers.HyperlinkedRelatedField(source="terminal", view_name="terminals:detail",
                                                           read_only=True)

        class Meta:
            model = FaultTicket
            fields = ["service_order_no", "terminal_url"]

    with pytest.raises(TypeError, match="HyperlinkedRelatedField"):
        Rows.row_plan()


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/St_Johns"])
def test_a_planned_date_time_is_written_as_drf_writes_it_and_asks_the_time_zone_once(zone, monkeypatch):
    import datetime
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from django.utils import timezone
    from rest_framework import serializers

    from portal.core import api as core_api
    from portal.core.api import RowSerializerMixin

    class Rows(RowSerializerMixin, serializers.Serializer):
        at = serializers.DateTimeField()
        day = serializers.DateTimeField(format="%Y-%m-%d %H:%M")
        paris = serializers.DateTimeField(default_timezone=ZoneInfo("Europe/Paris"))
        maybe = serializers.DateTimeField(allow_null=True)

    utc = datetime.datetime(2026, 12, 4, 23, 30, 15, 123456, tzinfo=datetime.UTC)
    rows = [
        SimpleNamespace(at=utc, day=utc, paris=utc, maybe=None),
        SimpleNamespace(at=utc.astimezone(ZoneInfo("Asia/Shanghai")), day=utc, paris=utc, maybe=utc),
        SimpleNamespace(at=datetime.datetime(2026, 12, 4, 9, 0), day=utc, paris=utc, maybe=utc),  # naive
    ]
    with timezone.override(zone):
        planned = Rows(rows, many=True).data
        walked = [serializers.Serializer.to_representation(Rows(), row) for row in rows]
    assert [dict(row) for row in planned] == walked

    class Aware(RowSerializerMixin, serializers.Serializer):  # only date-times the plan writes itself
        at = serializers.DateTimeField()
        maybe = serializers.DateTimeField(allow_null=True)

    asked = []
    real = timezone.get_current_timezone
    monkeypatch.setattr(core_api.timezone, "get_current_timezone", lambda: asked.append(1) or real())
    with timezone.override(zone):
        aware = Aware(rows[:2], many=True).data
    assert len(asked) == 1 and aware[1]["maybe"] == planned[1]["maybe"]  # once for the whole list (DRF: once a value, here three)
    assert planned[0]["at"] == {"UTC": "2026-12-04T23:30:15.123456Z", "Asia/Shanghai": "2026-12-05T07:30:15.123456+08:00",
                                "America/St_Johns": "2026-12-04T20:00:15.123456-03:30"}[zone]
