"""Schemathesis against /api/schema/, in-process through the WSGI application: whatever it sends,
the API answers without a 5xx and as its schema says (status codes, content types, bodies).

Run as a staff user and as a merchant, each with a token, over a small world (a terminal, a
ticket, an application of the merchant). Examples are bounded and derandomised so the run is
reproducible and stays well under a minute.
"""

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import AdminFactory
from tests.security.registry import Owner

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 12


@pytest.fixture
def in_test_transaction():
    """Requests go straight to the WSGI handler, whose request signals would close the test's
    connection (it is inside the test transaction); Django's own test client disconnects them too."""
    from django.core import signals
    from django.db import close_old_connections

    for signal in (signals.request_started, signals.request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (signals.request_started, signals.request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def world(db, in_test_transaction):
    owner = Owner()
    owner.ticket  # noqa: B018 - a ticket, its terminal and an application exist for the fuzzer
    owner.application  # noqa: B018
    return owner


FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def _token(user):
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


def fuzz_every_operation(headers):
    """Run the checks on every operation; return the failures as text, one per operation."""
    # schemathesis' own pytest loader (from_fixture) does not run under pytest 9, so the
    # operations are driven with hypothesis directly, in this test's database transaction.
    from portal.wsgi import application

    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    failures = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case):
            # Each example in a savepoint rolled back at once: examples stay independent, and a
            # statement PostgreSQL refuses aborts only its own request, as in production.
            with transaction.atomic():
                response = case.call(headers=headers)
                transaction.set_rollback(True)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported together below
            failures[operation.label] = str(exc)[:3000]
    assert operations, "the schema lists no operations"
    return failures


def test_it_holds_up_for_staff(world):
    failures = fuzz_every_operation(_token(AdminFactory()))
    assert not failures, "\n\n".join(f"{op}:\n{text}" for op, text in failures.items())


def test_it_holds_up_for_a_merchant(world):
    failures = fuzz_every_operation(_token(world.user))
    assert not failures, "\n\n".join(f"{op}:\n{text}" for op, text in failures.items())
