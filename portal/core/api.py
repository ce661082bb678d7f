"""The API's one error body, and the serializers built from a state machine's field declaration.

Every error the API answers has the same shape: `detail` (a sentence for the user), `code` (what
kind of refusal: invalid, forbidden, not_allowed, stale, not_found, not_authenticated,
permission_denied, throttled, …) and, for invalid input, each field's errors as a list under the
field's name. A refused workflow step (WorkflowError) is answered by the view raising it.
"""

import functools

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import ISO_8601, exceptions, serializers
from rest_framework.fields import is_simple_callable
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from portal.core.workflow import WorkflowError

CODES = {
    exceptions.NotFound: "not_found",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ParseError: "parse_error",
}


def _as_list(errors):
    if isinstance(errors, list | tuple):
        return [str(e) for e in errors]
    if isinstance(errors, dict):  # a nested serializer's errors: "field.sub" keys would hide them
        return [f"{k}: {', '.join(_as_list(v))}" for k, v in errors.items()]
    return [str(errors)]


def exception_handler(exc, context):
    """DRF's handler, answering every error with the one body (settings.REST_FRAMEWORK)."""
    if isinstance(exc, WorkflowError):
        set_rollback()
        from rest_framework.response import Response

        return Response(exc.body(), status=exc.http_status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = {name: _as_list(errors) for name, errors in detail.items()}
        else:
            fields = {"non_field_errors": _as_list(detail)}
        first = next(iter(fields.values()), [""])
        message = first[0] if list(fields) == ["non_field_errors"] else _("Please correct the fields marked below.")
        response.data = {"detail": message, "code": "invalid", **fields}
    else:
        data = response.data if isinstance(response.data, dict) else {"detail": response.data}
        code = next((c for cls, c in CODES.items() if isinstance(exc, cls)), getattr(exc, "default_code", "error"))
        response.data = {"detail": str(data.get("detail", "")), "code": code}
    return response


class ErrorSerializer(serializers.Serializer):
    """An error answer: `detail` for the user, `code` for a program; for 400, each field's errors
    under the field's name."""

    detail = serializers.CharField()
    code = serializers.CharField()


def serializer_field(spec, *, help_text=""):
    """The DRF field of one workflow Field (portal.core.workflow), optional: which steps need it is
    the workflow's to say (and the schema's description)."""
    common = {"required": False, "label": str(spec.label), "help_text": help_text or str(spec.help) or None}
    if spec.kind in ("text", "textarea"):
        return serializers.CharField(allow_blank=True, max_length=spec.max_length, **common)
    if spec.kind == "choice":
        return serializers.ChoiceField(choices=spec.choices.choices, **common)
    if spec.kind == "multiple":
        return serializers.ListField(child=serializers.ChoiceField(choices=spec.choices.choices), **common)
    if spec.kind == "list":
        return serializers.ListField(child=serializers.CharField(max_length=spec.max_length), **common)
    if spec.kind == "bool":
        return serializers.BooleanField(allow_null=True, default=None, **common)
    if spec.kind == "date":
        return serializers.DateField(**common)
    raise ValueError(f"unknown field kind {spec.kind}")


def step_serializer(name, machine, *, extra=None):
    """A serializer class for POST …/transition/: `to` (one of the machine's states) and every
    field any step takes, each saying which steps need it."""
    needed_by = {}
    for t in machine.transitions:
        for field in t.needs:
            needed_by.setdefault(field, []).append(str(t.target))
    attrs = {
        "to": serializers.ChoiceField(choices=machine.states.choices, help_text=_("The state to move to.")),
    }
    for field, spec in machine.fields.items():
        targets = sorted(set(needed_by.get(field, [])))
        text = str(spec.help)
        if targets:
            text = (text + " " if text else "") + _("Needed to reach: %(targets)s.") % {"targets": ", ".join(targets)}
        if spec.aliases:
            text += " " + _("Also accepted as: %(names)s.") % {"names": ", ".join(spec.aliases)}
        attrs[field] = serializer_field(spec, help_text=text)
        for alias in spec.aliases:
            attrs[alias] = serializer_field(spec, help_text=_("Another name for %(field)s.") % {"field": field})
    attrs.update(extra or {})

    def to_internal_value(self, data):
        # A single value is accepted where a list is declared (form posts, simple clients).
        if hasattr(data, "getlist"):
            data = {k: (data.getlist(k) if isinstance(self.fields.get(k), serializers.ListField) else data.get(k))
                    for k in data}
        elif isinstance(data, dict):
            data = {k: ([v] if isinstance(self.fields.get(k), serializers.ListField) and isinstance(v, str) else v)
                    for k, v in data.items()}
        return serializers.Serializer.to_internal_value(self, data)

    attrs["to_internal_value"] = to_internal_value
    return type(name, (serializers.Serializer,), attrs)


def not_found(request, exception=None):
    """handler404: a URL under /api/ that matches no route (e.g. a malformed SO number) answers the
    one error body, as an unknown object does; pages keep their HTML page."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail), "code": "not_found"}, status=404)
    return page_not_found(request, exception)


# The largest id a PostgreSQL integer column holds: a bigger one is no object, never a 5xx.
MAX_ID = 2**31 - 1
ID_PATH = r"(?P<pk>[^/]+)"


def object_id(value):
    """A path's object id: an int in range, or the API's JSON 404 (Django's `<int:…>` converter
    would answer its HTML 404 to `-1` and let a 20-digit number reach the database)."""
    from rest_framework.exceptions import NotFound

    text = str(value)
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise NotFound
    return int(text)


def id_parameter():
    """The schema's `{id}` of an ID_PATH route: an integer, whatever the regex lets through."""
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter

    return OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The object's id.")


def id_filter(field_name, help_text):
    """A filter by an object's id: a whole number in 1..MAX_ID, anything else a 400 with the
    field's error (a float like -1e+300 would overflow the database's integer)."""
    import django_filters
    from django import forms
    from drf_spectacular.utils import extend_schema_field

    @extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
    class IdFilter(django_filters.NumberFilter):
        field_class = forms.IntegerField

    return IdFilter(field_name=field_name, help_text=help_text, min_value=1, max_value=MAX_ID)


class RowSerializerMixin:
    """A serializer's rows without DRF's walk over fresh copies of every field for every row.

    DRF's `Serializer.to_representation` deep-copies the declared fields for each serializer and
    then, for each row, asks each field for its attribute and its representation: about half the
    time of a 25-row API list, and of a ticket's answer with its events. A planned serializer reads
    its fields once per class into a plan (each field's name, source path and own
    `to_representation`) and each row through that plan: the same values, the same JSON (tests
    compare the two on every kind of row). A SerializerMethodField is planned by its method's name
    and called on the serializer at hand (so it reads that serializer's context, as in DRF). For
    read-only fields: the plan refuses hyperlinks, which need the request to be built.
    """

    @classmethod
    def row_plan(cls):
        plan = cls.__dict__.get("_row_plan")  # each class its own plan, never a parent's
        if plan is None:
            plan = []
            for name, field in cls().fields.items():
                if field.write_only:
                    continue
                if isinstance(field, serializers.HyperlinkedRelatedField):
                    raise TypeError(f"{cls.__name__}.{name}: a row serializer cannot plan {type(field).__name__}")
                if isinstance(field, serializers.SerializerMethodField):
                    plan.append((name, None, False, field.method_name, False))
                    continue
                plan.append((name, tuple(field.source_attrs), field.allow_null, *_representer(field)))
            cls._row_plan = plan
        return plan

    def _row_timezone(self):
        """The time zone date-times are written in, asked once per serializer (DRF asks for every
        value); a serializer lives for one answer."""
        if "_row_tz" not in self.__dict__:
            self._row_tz = timezone.get_current_timezone() if settings.USE_TZ else None
        return self._row_tz

    def to_representation(self, instance):
        row = {}
        for name, attrs, allow_null, represent, takes_timezone in self.row_plan():
            if attrs is None:  # a SerializerMethodField: its method, on this serializer
                row[name] = getattr(self, represent)(instance)
                continue
            value, missing = instance, False
            for attr in attrs:  # as DRF's fields.get_attribute
                if value is None:  # DRF: AttributeError -> None if the field allows it, else left out
                    missing = True
                    break
                try:
                    value = getattr(value, attr)
                except ObjectDoesNotExist:
                    value = None
                if is_simple_callable(value):
                    value = value()
            if missing and not allow_null:
                continue
            if value is None:
                row[name] = None
            else:
                row[name] = represent(value, self._row_timezone()) if takes_timezone else represent(value)
        return row


def _representer(field):
    """(represent, takes_timezone): the field's own to_representation or, for a date-time written as
    ISO 8601 in the current time zone (DRF's default), the same text given the time zone."""
    output = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if (isinstance(field, serializers.DateTimeField) and not hasattr(field, "timezone")
            and isinstance(output, str) and output.lower() == ISO_8601):
        return functools.partial(_iso_datetime, field), True
    return field.to_representation, False


def _iso_datetime(field, value, tz):
    """As DRF's DateTimeField.to_representation for an aware date-time; anything else is DRF's."""
    if tz is None or isinstance(value, str) or not timezone.is_aware(value):
        return field.to_representation(value)
    try:
        text = value.astimezone(tz).isoformat()
    except OverflowError:
        return field.to_representation(value)  # DRF's own error
    return text[:-6] + "Z" if text.endswith("+00:00") else text
