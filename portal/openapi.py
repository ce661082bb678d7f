"""A drf-spectacular post-processing hook: the errors DRF answers on any endpoint, documented.

DRF answers 400 (validation), 401/403 (authentication, permission), 404 (unknown object or page),
405/406/415 (method, format, media type) and 429 (throttling) without a view saying so; the
generated schema listed only the success codes, so API clients (and schemathesis) met statuses
the contract never mentioned. This adds each one that an operation does not document itself,
with the body DRF sends. An app's own @extend_schema responses always win.
"""

DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# Serializer validation errors: {"field": ["message", ...], "non_field_errors": [...]} or {"detail": ...}.
VALIDATION = {"type": "object", "additionalProperties": True}

ERRORS = {
    "400": ("Invalid input", "ValidationErrorResponse"),
    "401": ("Not authenticated", "ErrorDetail"),
    "403": ("Not allowed", "ErrorDetail"),
    "404": ("Not found (or not yours)", "ErrorDetail"),
    "405": ("Method not allowed", "ErrorDetail"),
    "406": ("Not acceptable", "ErrorDetail"),
    "415": ("Unsupported media type", "ErrorDetail"),
    "429": ("Too many requests", "ErrorDetail"),
}
METHODS = {"get", "post", "put", "patch", "delete"}


def document_errors(result, generator, request, public):
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorDetail", DETAIL)
    schemas.setdefault("ValidationErrorResponse", VALIDATION)
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for code, (description, name) in ERRORS.items():
                if code == "415" and method not in {"post", "put", "patch"}:
                    continue
                responses.setdefault(code, {
                    "description": description,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                })
    return result
