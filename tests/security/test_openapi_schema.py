"""The OpenAPI schema at /api/schema/ says what the API checks: enums, number patterns, nullable
fields, the one error body on every error status, the body of each transition step by target, and
links from a created ticket or application to its next steps."""

import re

import pytest
import schemathesis

from applications.models import Application, ApplicationDocument
from portal.core.numbering import number_pattern
from repairs import workflow as ticket_workflow
from repairs.models import FaultTicket
from terminals.models import Deregistration, Terminal, validate_device_number, validate_mid, validate_tid

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def enum(schema, name):
    return set(schema["components"]["schemas"][name]["enum"])


def test_it_is_a_valid_openapi_3_document(schema):
    assert schema["openapi"].startswith("3.")
    loaded = schemathesis.openapi.from_dict(schema)
    labels = [result.ok().label for result in loaded.get_all_operations()]
    assert "POST /api/v1/tickets/{service_order_no}/transition/" in labels


def test_it_names_every_choice_as_an_enum(schema):
    assert enum(schema, "TicketStatusEnum") == set(FaultTicket.Status.values)
    assert enum(schema, "FaultTypeEnum") == set(FaultTicket.FaultType.values)
    assert enum(schema, "ApplicationStatusEnum") == set(Application.Status.values)
    assert enum(schema, "ApplicationDocumentKindEnum") == set(ApplicationDocument.Kind.values)
    assert enum(schema, "FeePlanEnum") == set(Application.FeePlan.values)
    assert enum(schema, "TerminalStatusEnum") == set(Terminal.Status.values)
    assert enum(schema, "DeregistrationMethodEnum") == set(Deregistration.Method.values)
    assert enum(schema, "VerdictEnum") == set(ApplicationDocument.Verdict.values)
    brief = schema["components"]["schemas"]["TicketBrief"]["properties"]
    assert brief["status"] == {"$ref": "#/components/schemas/TicketStatusEnum"}
    assert brief["fault_type"] == {"$ref": "#/components/schemas/FaultTypeEnum"}


def test_it_states_the_number_patterns_of_their_owners(schema):
    components = schema["components"]["schemas"]
    assert components["TicketDetail"]["properties"]["service_order_no"]["pattern"] == number_pattern("SO")
    assert components["ApplicationDetail"]["properties"]["number"]["pattern"] == number_pattern("AP")
    terminal = components["Terminal"]["properties"]
    assert terminal["serial_number"]["pattern"] == validate_device_number.regex.pattern
    assert terminal["tag_number"]["pattern"] == validate_device_number.regex.pattern
    assert terminal["tid"]["pattern"] == validate_tid.regex.pattern
    assert terminal["mid"]["pattern"] == validate_mid.regex.pattern
    assert components["TicketCreate"]["properties"]["terminal"]["pattern"] == validate_device_number.regex.pattern
    ticket = components["ApplicationCreate"]["properties"]["ticket"]["oneOf"]  # the number, or blank
    assert {"type": "string", "pattern": number_pattern("SO")} in ticket
    assert re.match(number_pattern("SO"), "SO20261124-0007")
    path = schema["paths"]["/api/v1/tickets/{service_order_no}/"]["get"]["parameters"]
    assert [p["schema"]["pattern"] for p in path if p["in"] == "path"] == [number_pattern("SO")]


def test_it_marks_what_is_returned_as_null_nullable(schema):
    detail = schema["components"]["schemas"]["TicketDetail"]["properties"]
    assert detail["pickup_code"].get("nullable") is True


def test_it_answers_every_error_with_the_one_error_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code"}
    assert error["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404", "429"} <= codes, (method, path)
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    body = response["content"]["application/json"]["schema"]
                    assert body == {"$ref": "#/components/schemas/Error"}, (method, path, code)


def test_it_documents_409_where_a_step_can_be_refused(schema):
    for path in ("/api/v1/tickets/{service_order_no}/transition/", "/api/v1/applications/{number}/transition/"):
        assert "409" in schema["paths"][path]["post"]["responses"]
    assert "201" in schema["paths"]["/api/v1/tickets/"]["post"]["responses"]


def test_it_gives_each_transition_target_its_own_body(schema):
    components = schema["components"]["schemas"]
    body = components["TicketTransition"]
    mapping = body["discriminator"]["mapping"]
    assert body["discriminator"]["propertyName"] == "to"
    assert set(mapping) == {str(t.target) for t in ticket_workflow.MACHINE.transitions}
    awaiting = components[mapping["awaiting_branch"].rsplit("/", 1)[1]]
    assert awaiting["properties"]["to"]["enum"] == ["awaiting_branch"]
    assert "branch" in awaiting["required"]
    signed = components[components["ApplicationTransition"]["discriminator"]["mapping"]["contract_signed"]
                        .rsplit("/", 1)[1]]
    assert "contract_number" in signed["required"]


def test_it_links_a_created_ticket_and_application_to_their_transition(schema):
    ticket = schema["paths"]["/api/v1/tickets/"]["post"]["responses"]["201"]["links"]["transition"]
    assert ticket == {"operationId": "v1_tickets_transition_create",
                      "parameters": {"service_order_no": "$response.body#/service_order_no"}}
    application = schema["paths"]["/api/v1/applications/"]["post"]["responses"]["201"]["links"]["transition"]
    assert application["parameters"] == {"number": "$response.body#/number"}
