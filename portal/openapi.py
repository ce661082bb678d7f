"""drf-spectacular post-processing: the parts of the contract a serializer cannot say by itself.

- The errors DRF answers on any endpoint, documented: 400 (validation), 401/403 (authentication,
  permission), 404 (unknown object or page), 405/406/415 (method, format, media type) and 429
  (throttling) are answered without a view saying so; the schema listed only the success codes, so
  API clients (and schemathesis) met statuses the contract never mentioned. Every error, whoever
  documents it, has the one body of portal/core/api.py, the `Error` component.
- The patterns of the numbers the API answers with (SO/AP numbers, serial and tag numbers, TID and
  MID), taken from their owners.
- The body of each `/transition/` as a `oneOf` by `to`: one schema per target state, requiring
  what that step needs (the workflow table says it, portal/core/workflow.py).
- Links from a created ticket or application to its detail and its transition, so a client (or a
  stateful fuzzer) can follow a journey.

An app's own @extend_schema responses win for the description; the body is always `Error`.
"""

from applications import workflow as application_workflow
from portal.core.numbering import number_pattern
from repairs import workflow as ticket_workflow
from terminals.models import validate_device_number, validate_mid, validate_tid

ERRORS = {
    "400": "Invalid input: `detail`, `code` (invalid) and each field's errors under its name",
    "401": "Not authenticated",
    "403": "Not allowed",
    "404": "Not found (or not yours)",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "415": "Unsupported media type",
    "429": "Too many requests",
}
METHODS = {"get", "post", "put", "patch", "delete"}
ERROR = {"$ref": "#/components/schemas/Error"}

SO = number_pattern("SO")
AP = number_pattern("AP")
DEVICE = validate_device_number.regex.pattern
PATTERNS = {
    # component: {property: pattern}
    "Ticket": {"service_order_no": SO, "terminal": DEVICE},
    "TicketDetail": {"service_order_no": SO, "terminal": DEVICE, "tag_number": DEVICE},
    "TicketBrief": {"service_order_no": SO},
    "Terminal": {"serial_number": DEVICE, "tag_number": DEVICE, "tid": validate_tid.regex.pattern,
                 "mid": validate_mid.regex.pattern},
    "TerminalDetail": {"serial_number": DEVICE, "tag_number": DEVICE, "tid": validate_tid.regex.pattern,
                       "mid": validate_mid.regex.pattern},
    "Application": {"number": AP, "ticket": SO},
    "ApplicationDetail": {"number": AP, "ticket": SO},
    "MonthlyVolume": {"terminal": DEVICE},
    "Deregistration": {"terminal": DEVICE},
}
# Choices a serializer of a lower app cannot name (terminals does not know repairs' states).
ENUMS = {
    "TicketBrief": {"status": "TicketStatusEnum", "fault_type": "FaultTypeEnum"},
    "Deregistration": {"terminal_status": "TerminalStatusEnum"},
}
PATH_PATTERNS = {"service_order_no": SO, "number": AP, "serial_number": DEVICE}
# The /transition/ bodies: component name → the workflow whose table they follow.
TRANSITIONS = {"TicketTransition": ticket_workflow.MACHINE, "ApplicationTransition": application_workflow.MACHINE}
# operationId of a create → (path parameter, the response field that fills it, operations to link).
LINKS = {
    "v1_tickets_create": ("service_order_no", {
        "detail": "v1_tickets_retrieve", "transition": "v1_tickets_transition_create",
    }),
    "v1_applications_create": ("number", {
        "detail": "v1_applications_retrieve", "transition": "v1_applications_transition_create",
        "documents": "v1_applications_documents_create",
    }),
}


def document_errors(result, generator, request, public):
    """The one error body on every error status each operation can answer."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    error = schemas.setdefault("Error", {"type": "object", "properties": {
        "detail": {"type": "string"}, "code": {"type": "string"}}, "required": ["code", "detail"]})
    # For 400, each field's errors as a list of sentences under the field's name.
    error["additionalProperties"] = {"type": "array", "items": {"type": "string"}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code, description in ERRORS.items():
                if code == "415" and method not in {"post", "put", "patch"}:
                    continue
                responses.setdefault(code, {"description": description})
            for code, response in responses.items():
                if code.startswith("4"):
                    response.setdefault("description", ERRORS.get(code, "Refused"))
                    response["content"] = {"application/json": {"schema": ERROR}}
    return result


def document_patterns(result, generator, request, public):
    """Patterns on the numbers, in answers and in paths; enums a lower app's serializer cannot name."""
    schemas = result.get("components", {}).get("schemas", {})
    for component, patterns in PATTERNS.items():
        properties = schemas.get(component, {}).get("properties", {})
        for name, pattern in patterns.items():
            if name in properties:
                properties[name]["pattern"] = pattern
    for component, enums in ENUMS.items():
        properties = schemas.get(component, {}).get("properties", {})
        for name, enum in enums.items():
            if name in properties and enum in schemas:
                properties[name] = {"$ref": f"#/components/schemas/{enum}"}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] in PATH_PATTERNS:
                    parameter["schema"]["pattern"] = PATH_PATTERNS[parameter["name"]]
    return result


def _step_schema(flat, machine, target):
    """The body of a step to `target`: `to` fixed, the fields of the steps reaching it, requiring
    those every such step needs."""
    steps = [t for t in machine.transitions if str(t.target) == target]
    needs = set.intersection(*(set(t.needs) for t in steps))
    names = ["to", *dict.fromkeys(f for t in steps for f in t.fields)]
    extra = [n for n in flat["properties"] if n not in machine.fields and n != "to"]  # e.g. version
    properties = {}
    for name in names + extra:
        if name == "to":
            properties["to"] = {"type": "string", "enum": [target]}
            continue
        properties[name] = flat["properties"][name]
        for alias in machine.fields.get(name).aliases if name in machine.fields else ():
            properties[alias] = flat["properties"][alias]
    return {
        "type": "object",
        "description": str(machine.states(target).label),
        "properties": properties,
        "required": ["to", *sorted(needs)],
    }


def document_transitions(result, generator, request, public):
    """Each /transition/ body as a oneOf by `to`, one component per target state."""
    schemas = result.get("components", {}).get("schemas", {})
    for component, machine in TRANSITIONS.items():
        flat = schemas.get(component)
        if flat is None:
            continue
        targets = list(dict.fromkeys(str(t.target) for t in machine.transitions))
        mapping = {}
        for target in targets:
            name = component + "".join(part.title() for part in target.split("_"))
            schemas[name] = _step_schema(flat, machine, target)
            mapping[target] = f"#/components/schemas/{name}"
        schemas[component] = {
            "oneOf": [{"$ref": ref} for ref in mapping.values()],
            "discriminator": {"propertyName": "to", "mapping": mapping},
            "description": "The step to make: `to` (the target state) and the fields that step needs.",
        }
    return result


def document_links(result, generator, request, public):
    """Links from a created ticket or application to what a client does with it next."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or operation.get("operationId") not in LINKS:
                continue
            parameter, targets = LINKS[operation["operationId"]]
            created = operation.get("responses", {}).get("201")
            if created is None:
                continue
            created["links"] = {
                name: {"operationId": target, "parameters": {parameter: f"$response.body#/{parameter}"}}
                for name, target in targets.items()
            }
    return result
