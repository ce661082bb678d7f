"""The merchant reads the public note of a step in its notifications; staff-only steps stay out."""

import pytest
from django.test import TestCase

from repairs.workflow import ticket_transition

pytestmark = pytest.mark.django_db


def test_it_sends_the_merchant_the_public_note_of_a_remote_resolution(ticket_at, people, mailoutbox):
    ticket = ticket_at("remote_diagnosis")
    people["merchant"].email = "owner@example.test"
    people["merchant"].save()
    mailoutbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        ticket_transition(
            ticket=ticket, to="resolved_remotely", actor=people["agent"],
            note="Reset the network parameters remotely",
        )
    to_merchant = [m for m in mailoutbox if m.to == ["owner@example.test"]]
    assert len(to_merchant) == 1
    assert "Reset the network parameters remotely" in to_merchant[0].body
