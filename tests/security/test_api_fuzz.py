"""Schemathesis against /api/schema/, in-process through the WSGI application: whatever it sends,
the API answers without a 5xx, with a status its schema documents and a body its schema allows.

All four schemathesis phases, for each demo role with a token (agent, engineer, reviewer,
merchant) over a small world (terminals, a ticket, an application of the merchant):
- examples and coverage: the schema's examples, and each parameter's and field's boundaries and
  wrong types (huge and negative numbers, floats, unicode, NUL, over-long strings);
- fuzzing: generated requests, with the path naming the world's own objects (random numbers only
  meet 404s);
- stateful: journeys following the schema's links (create a ticket or an application, then read
  and move it).
Examples are bounded and derandomised so the run is reproducible and short (docs/scale.md).
"""

import functools
import itertools

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import EngineerFactory, ReviewerFactory
from tests.security.registry import Owner

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 6
STEPS = 6
# The coverage phase makes ~3,000 cases for one role (every boundary and wrong type of every
# parameter and field, and the unexpected methods); at ~45 ms a request that is minutes. Each role
# runs its own 1/COVERAGE_SHARE of them (a different share per role), so together the four roles
# run 4/COVERAGE_SHARE of the cases every time, the same ones each run.
COVERAGE_SHARE = 20

FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
JOURNEYS = hypothesis_settings(FUZZ, stateful_step_count=STEPS)


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
    owner.spare = owner.new_terminal()  # one without a ticket, for the journeys to report a fault on
    return owner


def _token(user):
    return {"Authorization": f"Token {Token.objects.get_or_create(user=user)[0].key}"}


@functools.cache
def _schema():
    """Loaded once: generating the schema costs more than a dozen requests."""
    from portal.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)


def _call(case, headers):
    # Each request in a savepoint: a statement PostgreSQL refuses aborts only its own request, as
    # in production, and the test's transaction goes on.
    with transaction.atomic():
        return case.call(headers=headers)


def _check(headers, share):
    """The test of one operation: call, then run every check on the answer."""
    coverage = itertools.count()

    def check(case):
        if case.meta and case.meta.phase.name == "coverage" and next(coverage) % COVERAGE_SHARE != share:
            return
        with transaction.atomic():  # examples stay independent: each one rolled back
            response = _call(case, headers)
            transaction.set_rollback(True)
        case.validate_response(response, checks=CHECKS, headers=headers)

    return check


def fuzz_every_operation(world, headers, share):
    """Examples, coverage and fuzzing on every operation; the failures as text, one per operation."""
    # schemathesis' own pytest loader (from_fixture) does not run under pytest 9, so each
    # operation's test is built with schemathesis' hypothesis builder and run here, in this
    # test's database transaction.
    schema = _schema()
    path_parameters = {
        "service_order_no": world.ticket.service_order_no,
        "number": world.application.number,
        "serial_number": world.ticket.terminal.serial_number,
    }
    failures = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        names = {p.name for p in operation.path_parameters}
        test = create_test(operation=operation, test_func=_check(headers, share), config=HypothesisTestConfig(
            project=schema.config,
            modes=[HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE, HypothesisTestMode.FUZZING],
            settings=FUZZ,
            override=Override(path_parameters={k: v for k, v in path_parameters.items() if k in names}),
        ))
        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - reported together below
            failures[operation.label] = str(exc)[:3000]
    assert operations, "the schema lists no operations"
    return failures


def follow_journeys(world, headers):
    """The stateful phase: sequences of calls along the schema's links; the failure as text."""
    schema = _schema()
    serial, channel = world.spare.serial_number, world.channel.code
    statuses = []

    class Journey(schema.as_state_machine()):
        def setup(self):
            self._scenario = transaction.atomic()
            self._scenario.__enter__()

        def teardown(self):
            transaction.set_rollback(True)
            self._scenario.__exit__(None, None, None)

        def before_call(self, case):
            # Creations name the world's own terminal and channel, or every journey ends at a 404.
            if isinstance(case.body, dict) and case.method == "POST":
                if case.path == "/api/v1/tickets/":
                    case.body["terminal"] = serial
                elif case.path == "/api/v1/applications/":
                    case.body["channel"] = channel

        def call(self, case, **kwargs):
            response = _call(case, headers)
            statuses.append(response.status_code)
            return response

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers)

    try:
        Journey.run(settings=JOURNEYS)
    except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001
        return str(exc)[:5000]
    if not statuses:
        return "the journeys made no request"
    return ""


ROLES = {
    "agent": lambda world: world.agent,
    "engineer": lambda world: EngineerFactory(branch=world.branch),
    "reviewer": lambda world: ReviewerFactory(),
    "merchant": lambda world: world.user,
}


@pytest.mark.parametrize("role", ROLES)
def test_it_holds_up_for_every_role(world, role):
    headers = _token(ROLES[role](world))
    failures = fuzz_every_operation(world, headers, share=list(ROLES).index(role))
    journey = follow_journeys(world, headers)
    if journey:
        failures["stateful"] = journey
    assert not failures, "\n\n".join(f"{op}:\n{text}" for op, text in failures.items())
