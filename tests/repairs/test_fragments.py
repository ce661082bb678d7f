"""Rows, timeline entries and forms come from the cache once rendered — and are never stale."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from repairs.models import FaultTicket
from repairs.workflow import add_comment, ticket_transition

pytestmark = pytest.mark.django_db
S = FaultTicket.Status


def row_of(html, ticket):
    match = re.search(rf'<tr[^>]*data-so="{ticket.service_order_no}".*?</tr>', html, re.S)
    assert match, f"no row for {ticket.service_order_no}"
    return match.group(0)


def test_a_cached_row_changes_as_soon_as_the_ticket_does(client, people, ticket_at):
    ticket = ticket_at(S.REPORTED)
    client.force_login(people["merchant"])
    first = row_of(client.get(reverse("tickets:list")).content.decode(), ticket)
    again = row_of(client.get(reverse("tickets:list")).content.decode(), ticket)
    assert again == first  # served from the cache: the same HTML

    ticket_transition(ticket=ticket, to=S.REMOTE_DIAGNOSIS, actor=people["agent"])
    ticket.refresh_from_db()
    after = row_of(client.get(reverse("tickets:list")).content.decode(), ticket)
    assert after != first
    assert ticket.agent_name and ticket.agent_name in after  # the agent who took it shows at once


def test_a_row_turns_overdue_when_its_sla_passes_without_any_change(client, people, ticket_at):
    ticket = ticket_at(S.REPORTED)
    client.force_login(people["agent"])
    assert 'data-testid="overdue"' not in row_of(client.get(reverse("tickets:list"), {"queue": "open"}).content.decode(), ticket)
    FaultTicket.objects.filter(pk=ticket.pk).update(sla_due_at=timezone.now() - timezone.timedelta(minutes=1))
    assert 'data-testid="overdue"' in row_of(client.get(reverse("tickets:list"), {"queue": "open"}).content.decode(), ticket)


def test_merchants_and_staff_get_their_own_columns_and_languages_their_own_rows(client, people, ticket_at):
    ticket = ticket_at(S.REPORTED)
    client.force_login(people["merchant"])
    merchant_row = row_of(client.get(reverse("tickets:list")).content.decode(), ticket)
    staff = Client()
    staff.force_login(people["agent"])
    staff_row = row_of(staff.get(reverse("tickets:list"), {"queue": "open"}).content.decode(), ticket)
    assert ticket.merchant.name in staff_row and ticket.merchant.name not in merchant_row

    people["agent"].language = "en"
    people["agent"].save(update_fields=["language"])
    english = row_of(staff.get(reverse("tickets:list"), {"queue": "open"}).content.decode(), ticket)
    people["agent"].language = "zh-hans"
    people["agent"].save(update_fields=["language"])
    chinese = row_of(staff.get(reverse("tickets:list"), {"queue": "open"}).content.decode(), ticket)
    assert "Reported" in english and "Reported" not in chinese


def test_timeline_entries_show_new_comments_and_renamed_people(client, people, ticket_at):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    add_comment(ticket=ticket, author=people["merchant"], body="It beeps twice.")
    client.force_login(people["merchant"])
    url = reverse("tickets:detail", args=[ticket.service_order_no])
    assert "It beeps twice." in client.get(url).content.decode()
    add_comment(ticket=ticket, author=people["merchant"], body="Now it is silent.")
    page = client.get(url).content.decode()
    assert "It beeps twice." in page and "Now it is silent." in page

    merchant = people["merchant"]
    merchant.first_name, merchant.last_name = "Renamed", "Person"
    merchant.save()
    assert "Renamed" in client.get(url).content.decode()


def test_a_cached_form_carries_each_visitors_own_csrf_token_and_still_posts(people, ticket_at):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    url = reverse("tickets:detail", args=[ticket.service_order_no])
    tokens = []
    for _ in range(2):
        visitor = Client(enforce_csrf_checks=True)
        visitor.force_login(people["merchant"])
        page = visitor.get(url).content.decode()
        form = re.search(r'<form[^>]*data-testid="comment-form".*?</form>', page, re.S).group(0)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        assert "\x00" not in form
        tokens.append(token)
        response = visitor.post(reverse("tickets:comment", args=[ticket.service_order_no]),
                                {"body": f"from visitor {len(tokens)}", "csrfmiddlewaretoken": token})
        assert response.status_code == 302
    assert tokens[0] != tokens[1]
    assert ticket.comments.filter(body__startswith="from visitor").count() == 2


def test_staff_and_merchants_get_their_own_comment_form(client, people, ticket_at):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    url = reverse("tickets:detail", args=[ticket.service_order_no])
    client.force_login(people["merchant"])
    assert 'name="is_public"' not in re.search(r'data-testid="comment-form".*?</form>',
                                               client.get(url).content.decode(), re.S).group(0)
    staff = Client()
    staff.force_login(people["agent"])
    assert 'name="is_public"' in re.search(r'data-testid="comment-form".*?</form>',
                                           staff.get(url).content.decode(), re.S).group(0)


def test_a_transition_form_follows_the_tickets_version(client, people, ticket_at):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    client.force_login(people["agent"])
    url = reverse("tickets:detail", args=[ticket.service_order_no])
    before = re.findall(r'name="version" value="(\d+)"', client.get(url).content.decode())
    add_comment(ticket=ticket, author=people["agent"], body="note", is_public=False)
    ticket_transition(ticket=ticket, to=S.AWAITING_BRANCH, actor=people["agent"], branch=people["engineer"].branch.code)
    ticket.refresh_from_db()
    after = re.findall(r'name="version" value="(\d+)"', client.get(url).content.decode())
    assert before and after and set(after) == {str(ticket.version)} and set(before) != set(after)


def test_a_warm_worker_serves_rows_from_its_own_memory_and_a_new_one_from_the_shared_cache(
    client, people, ticket_at, monkeypatch
):
    from django.core.cache import cache, caches

    ticket = ticket_at(S.REPORTED)
    client.force_login(people["merchant"])
    first = row_of(client.get(reverse("tickets:list")).content.decode(), ticket)
    asked = []
    shared_get_many = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys, *a, **k: asked.append(list(keys)) or shared_get_many(keys, *a, **k))
    assert row_of(client.get(reverse("tickets:list")).content.decode(), ticket) == first
    assert not any(key.startswith("row:") for keys in asked for key in keys)  # no round trip for the rows

    caches["fragments"].clear()  # another worker: its memory is empty, the shared cache has the rows
    rendered = []
    monkeypatch.setattr("portal.core.fragments._template", _counting(rendered))
    assert row_of(client.get(reverse("tickets:list")).content.decode(), ticket) == first
    assert any(key.startswith("row:") for keys in asked for key in keys) and rendered == [0]


def _counting(rendered):
    """portal.core.fragments._template whose template counts the rows it renders."""
    from portal.core import fragments

    def template(name):
        compiled, digest = fragments._load(name)
        rendered.append(0)

        class Counting:
            def render(self, context):
                rendered[-1] += 1
                return compiled.render(context)

        return Counting(), digest

    return template
