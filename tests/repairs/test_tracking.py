import re
from datetime import datetime

import pytest
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.urls import reverse

from repairs.models import RepairRequest
from tests.factories import ActiveTerminalFactory, BranchFactory, MerchantUserFactory, UserFactory
from tests.insights.factories import make_ticket

pytestmark = pytest.mark.django_db

TRACK = "/track/"


@pytest.fixture
def ticket(db):
    branch = BranchFactory(code="BR001", name="浦东支行", address="上海市浦东新区世纪大道100号",
                           phone="021-58880000", hours="周一至周五 9:00–17:00")
    agent = UserFactory(username="agnes", first_name="芳", last_name="王")
    engineer = UserFactory(username="eddie", role="engineer", branch=branch, first_name="伟", last_name="李")
    terminal = ActiveTerminalFactory(tag_number="TAG-0001", merchant__name="鑫源便利店",
                               merchant__contact_name="张三", merchant__contact_phone="13912345678")
    t = make_ticket(
        terminal,
        created="2026-11-02 09:00",
        branch=branch,
        agent=agent,
        events=[
            ("remote_diagnosis", "2026-11-02 10:00", "客服内部备注 internal-note", False),
            ("awaiting_branch", "2026-11-02 11:00", "请带上营业执照 public-note", True),
            ("at_branch", "2026-11-03 09:30"),
            ("diagnosing", "2026-11-03 10:00", "engineer-internal", False),
            ("repairing", "2026-11-03 11:00"),
            ("network_testing", "2026-11-04 15:00"),
            ("ready_for_pickup", "2026-11-04 16:00"),
        ],
    )
    RepairRequest.objects.create(
        ticket=t, branch=branch, form_number="RR-X1", checked_tag_number="TAG-0001",
        checked_serial_number=terminal.serial_number, engineer=engineer, diagnosis="主板故障 diag-text",
        work_done="更换主板", pickup_code="493817",
    )
    return t


def test_it_shows_the_public_timeline_without_signing_in(client, ticket):
    response = client.get(TRACK, {"no": ticket.service_order_no, "tag": "TAG-0001"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="track-result"' in body
    assert ticket.service_order_no in body
    assert "Ready for pickup" in body or "待取机" in body
    assert "上海市浦东新区世纪大道100号" in body
    assert "周一至周五 9:00–17:00" in body
    # the stepper: remote diagnosis, branch and test done, pickup current
    assert body.count('class="done"') == 3
    assert 'aria-current="step"' in body
    # internal events are not on the public timeline
    timeline = body[body.index('data-testid="track-timeline"'):]
    assert timeline.count("<li>") == 6  # reported + 5 public events


def test_it_leaks_no_names_phones_notes_or_codes(client, ticket):
    body = client.get(TRACK, {"no": ticket.service_order_no, "tag": "TAG-0001"}).content.decode()
    for secret in (
        "鑫源便利店", "张三", "13912345678",  # merchant name, contact, phone
        "王芳", "李伟", "agnes", "eddie",  # agent's and engineer's names
        "021-58880000",  # branch phone
        "internal-note", "public-note", "engineer-internal",  # notes, public or not
        "493817", "RR-X1", "diag-text", "secret-symptom",  # pickup code, form number, diagnosis, symptoms
        ticket.terminal.serial_number, ticket.terminal.tid, ticket.terminal.mid,
    ):
        assert secret not in body, secret


def test_it_accepts_the_number_in_lower_case_and_with_spaces(client, ticket):
    response = client.get(TRACK, {"no": f" {ticket.service_order_no.lower()} ", "tag": "tag-0001"})
    assert 'data-testid="track-result"' in response.content.decode()


def _answer(response):
    body = response.content.decode()
    # the form echoes what was typed (and the footer the path); the answer is what lies between
    return response.status_code, body[body.index("</form>"):body.index("</main>")]


def test_it_answers_a_wrong_tag_and_an_unknown_number_the_same_way(client, ticket):
    other = ActiveTerminalFactory(tag_number="TAG-9999")
    wrong_tag = client.get(TRACK, {"no": ticket.service_order_no, "tag": other.tag_number})
    unknown = client.get(TRACK, {"no": "SO20991231-9999", "tag": "TAG-0001"})
    assert wrong_tag.status_code == unknown.status_code == 200
    assert _answer(wrong_tag) == _answer(unknown)
    assert 'data-testid="track-not-found"' in unknown.content.decode()
    assert "TAG-0001" not in _answer(unknown)[1]


def test_it_shows_only_the_form_before_a_lookup(client):
    response = client.get(TRACK)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="no"' in body and 'name="tag"' in body
    assert "track-not-found" not in body


@override_settings(TRACK_LIMIT=3, TRACK_WINDOW_SECONDS=600)
def test_it_limits_lookups_per_client_address(client, ticket):
    params = {"no": "SO20991231-0001", "tag": "X"}
    for _ in range(3):
        assert client.get(TRACK, params, REMOTE_ADDR="203.0.113.7").status_code == 200
    limited = client.get(TRACK, {"no": ticket.service_order_no, "tag": "TAG-0001"}, REMOTE_ADDR="203.0.113.7")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    english = client.get(TRACK, params, REMOTE_ADDR="203.0.113.7", HTTP_ACCEPT_LANGUAGE="en")
    assert "Too many lookups from your network." in english.content.decode()
    body = limited.content.decode()
    assert 'data-testid="track-limited"' in body
    assert "查询次数过多" in body  # anonymous visitors get the portal's default language
    # even the right pair is not answered while limited
    assert "track-result" not in body
    # another address is not affected
    ok = client.get(TRACK, {"no": ticket.service_order_no, "tag": "TAG-0001"}, REMOTE_ADDR="198.51.100.1",
                    HTTP_ACCEPT_LANGUAGE="en")
    assert ok.status_code == 200 and "track-result" in ok.content.decode()


@override_settings(TRACK_LIMIT=2, TRACK_WINDOW_SECONDS=600)
def test_it_limits_an_ipv6_client_by_its_64_network(client):
    params = {"no": "SO1", "tag": "X"}
    client.get(TRACK, params, REMOTE_ADDR="2001:db8::1")
    client.get(TRACK, params, REMOTE_ADDR="2001:db8::2")
    assert client.get(TRACK, params, REMOTE_ADDR="2001:db8::3").status_code == 429


@override_settings(TRACK_LIMIT=1, TRACK_WINDOW_SECONDS=600, TRUSTED_PROXIES=1)
def test_it_reads_the_client_address_from_a_trusted_proxy(client):
    params = {"no": "SO1", "tag": "X"}
    hdr = "HTTP_X_FORWARDED_FOR"
    assert client.get(TRACK, params, REMOTE_ADDR="10.0.0.1", **{hdr: "1.1.1.1, 203.0.113.9"}).status_code == 200
    assert client.get(TRACK, params, REMOTE_ADDR="10.0.0.1", **{hdr: "203.0.113.9"}).status_code == 429
    assert client.get(TRACK, params, REMOTE_ADDR="10.0.0.1", **{hdr: "203.0.113.10"}).status_code == 200


@override_settings(TRACK_LIMIT=1, TRACK_WINDOW_SECONDS=600)
def test_it_does_not_count_opening_the_empty_form(client):
    for _ in range(3):
        assert client.get(TRACK).status_code == 200
    assert client.get(TRACK, {"no": "SO1", "tag": "X"}).status_code == 200


def test_it_renders_a_qr_code_of_the_tracking_link_for_printed_receipts(ticket):
    request = RequestFactory().get("/tickets/x/repair-form/")
    html = Template("{% load repairs_tags %}{% tracking_qr ticket %}").render(Context({"ticket": ticket, "request": request}))
    assert "<svg" in html and 'role="img"' in html and "<title>" in html
    link = f"http://testserver/track/?no={ticket.service_order_no}&amp;tag=TAG-0001"
    assert link in html


def test_it_serves_the_qr_image_to_the_tickets_merchant_only(client, ticket):
    url = reverse("tickets:qr", args=[ticket.service_order_no])
    owner = MerchantUserFactory(merchant=ticket.merchant, is_merchant_owner=False)
    client.force_login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert re.search(rb"<svg", response.content)
    client.force_login(MerchantUserFactory())
    assert client.get(url).status_code == 404


def test_it_follows_the_qr_link_to_the_timeline(client, ticket):
    from repairs.tracking import tracking_path

    response = client.get(tracking_path(ticket))
    assert 'data-testid="track-result"' in response.content.decode()


@override_settings(TRACK_LIMIT=1)
def test_it_keeps_the_tag_number_out_of_referrers_but_lets_the_page_post_its_language_form(client, ticket):
    # "strict-origin": other sites and our own requests see only the origin, never the link with the
    # tag number, and the browser still sends the real Origin with the page's forms ("no-referrer"
    # made it send "Origin: null", which CSRF protection refuses).
    params = {"no": ticket.service_order_no, "tag": "TAG-0001"}
    for expected_status in (200, 429):
        response = client.get(TRACK, params)
        assert response.status_code == expected_status
        assert response["Referrer-Policy"] == "strict-origin"
        assert response["X-Robots-Tag"] == "noindex"


def test_it_shows_in_the_form_what_each_visitor_typed_though_the_form_is_rendered_once(client, ticket):
    first = client.get(TRACK, {"no": ticket.service_order_no, "tag": "TAG-0001"}).content.decode()
    second = client.get(TRACK, {"no": "SO20991231-9999", "tag": '"><b>x</b>&'}).content.decode()
    assert f'value="{ticket.service_order_no}"' in first and 'value="TAG-0001"' in first
    assert 'value="SO20991231-9999"' in second and 'value="&quot;&gt;&lt;b&gt;x&lt;/b&gt;&amp;"' in second
    assert "<b>x</b>" not in second and "TAG-0001" not in second
    assert "\x00" not in first + second  # no placeholder left behind


def test_it_renders_a_lookup_with_errors_afresh_with_its_errors(client, ticket):
    body = client.get(TRACK, {"no": "", "tag": "TAG-0001"}).content.decode()
    assert "is-invalid" in body and 'value="TAG-0001"' in body
    assert 'data-testid="track-result"' not in body


def test_it_shows_only_a_booked_drop_off_and_answers_in_two_queries(client, ticket, django_assert_num_queries):
    from zoneinfo import ZoneInfo

    from repairs.models import DropoffBooking

    shanghai = ZoneInfo("Asia/Shanghai")
    booker = UserFactory(username="booker")
    DropoffBooking.objects.create(ticket=ticket, branch=ticket.branch, booked_by=booker, status="cancelled",
                                  starts_at=datetime(2026, 11, 20, 10, 0, tzinfo=shanghai))
    lookup = {"no": ticket.service_order_no, "tag": "TAG-0001"}
    assert 'data-testid="track-dropoff"' not in client.get(TRACK, lookup).content.decode()
    DropoffBooking.objects.create(ticket=ticket, branch=ticket.branch, booked_by=booker,
                                  starts_at=datetime(2026, 11, 21, 14, 30, tzinfo=shanghai))
    with django_assert_num_queries(2):  # the ticket with its booked drop-off, and its public events
        body = client.get(TRACK, lookup).content.decode()
    assert re.search(r'data-testid="track-dropoff">2026-11-21 14:30<', body)


def test_the_answer_is_rendered_once_per_state_of_the_ticket(client, ticket):
    from django.test.signals import template_rendered

    from repairs.models import TicketEvent

    rendered = []

    def seen(sender, template, **kwargs):
        rendered.append(template.name)

    params = {"no": ticket.service_order_no, "tag": "TAG-0001"}
    template_rendered.connect(seen)
    try:
        first = client.get(TRACK, params).content.decode()
        again = client.get(TRACK, params).content.decode()
        assert rendered.count("repairs/_track_result.html") == 1  # the second answer came from the fragments
        card = re.compile(r'<section class="card" data-testid="track-result".*?</section>', re.S)
        assert card.search(again).group() == card.search(first).group()
        ticket.status = "closed"
        ticket.save(update_fields=["status"])
        TicketEvent.objects.create(ticket=ticket, from_status="ready_for_pickup", to_status="closed", is_public=True)
        closed = client.get(TRACK, params).content.decode()
        assert rendered.count("repairs/_track_result.html") == 2  # a changed ticket is a new card
        assert re.search(r'data-testid="track-status">[^<]*(Closed|已关闭)', closed)
        assert closed.count("<li><strong>") == first.count("<li><strong>") + 1  # and its new event
        english = client.get(TRACK, params, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert rendered.count("repairs/_track_result.html") == 3 and "Service order" in english  # each language its own
    finally:
        template_rendered.disconnect(seen)
