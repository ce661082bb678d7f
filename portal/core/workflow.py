"""The workflow core: one shape for the portal's state machines (terminals, fault tickets,
applications), one role resolution and one refusal.

- `Transition` is one step of a machine, declared once in its app's table: the states it leaves,
  the state it reaches, who may make it, the fields it needs and takes, and how pages show it.
- `Field` is one input of a machine's steps, declared once per machine: the page forms
  (portal.core.forms), the API serializers (portal.core.api) and `StateMachine.clean` all read
  the same declaration, so a limit is the same everywhere.
- `StateMachine` answers what every page, API view and admin asks of a table: which steps leave
  this state, which may this user make now, and why not; `check` refuses a step, `clean` checks
  its fields.
- `WorkflowError` is the one refusal: it changes nothing, and carries its code, the message for
  the user and the errors per field. `http_status` and `body()` are what the API answers.

Each app's own entry point (e.g. repairs.workflow.ticket_transition) locks the row, calls
`check` and `clean`, applies the step and writes its event in one transaction.
"""

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SYSTEM = "system"  # the portal itself: a periodic job, or one workflow moving another
ANONYMOUS = "anonymous"


def role_of(user):
    """Who `user` is to a state machine: "system" (None), "admin" (administrators and
    superusers), or the user's role ("merchant", "agent", "engineer", "reviewer")."""
    if user is None:
        return SYSTEM
    if not user.is_authenticated:
        return ANONYMOUS
    if user.is_superuser or user.role == "admin":
        return "admin"
    return user.role


class WorkflowError(Exception):
    """A refused change: nothing was changed.

    `code`: "invalid" (bad or missing input; `field_errors` name the fields), "forbidden" (not in
    this user's role or scope), "not_allowed" (not from the current state), "stale" (someone else
    changed the object meanwhile). `field_errors` is {field: [message, ...]}.
    """

    HTTP_STATUS = {"invalid": 400, "forbidden": 403, "not_found": 404, "not_allowed": 409, "stale": 409}

    def __init__(self, message, *, code="not_allowed", field_errors=None):
        super().__init__(str(message))
        self.message = str(message)
        self.code = code
        self.field_errors = {
            str(name): [str(m) for m in (errors if isinstance(errors, list | tuple) else [errors])]
            for name, errors in (field_errors or {}).items()
        }

    @property
    def http_status(self):
        return self.HTTP_STATUS.get(self.code, 409)

    def body(self):
        """The API's error body: `detail`, `code` and each field's errors as a list."""
        return {"detail": self.message, "code": self.code, **self.field_errors}

    @classmethod
    def invalid(cls, field_errors, message=None):
        return cls(message or _("Please correct the fields marked below."), code="invalid", field_errors=field_errors)


@dataclass(frozen=True)
class Field:
    """One input of a machine's steps.

    kind: "text" (one line), "textarea", "choice" (one of `choices`, a TextChoices class),
    "multiple" (a list of `choices`; a comma-separated string is accepted too), "bool", "date",
    "list" (a list of strings; a comma- or space-separated string is accepted too).
    `aliases`: other names the API accepts for it (e.g. `reason` for a ticket's `note`).
    """

    label: str
    kind: str = "text"
    max_length: int | None = None
    choices: type | None = None
    help: str = ""
    aliases: tuple = ()
    required_message: str = ""  # what a step that needs it says when it is missing

    def value_in(self, name, data):
        for key in (name, *self.aliases):
            value = data.get(key)
            if value not in (None, "", [], ()):
                return value
        return None


@dataclass(frozen=True)
class Transition:
    """One step: from any of `sources` to `target`, by a role in `roles` (SYSTEM included where the
    portal makes it), needing the fields `needs` and taking `optional` ones too."""

    sources: tuple
    target: str
    roles: frozenset
    label: str = ""
    needs: tuple = ()
    optional: tuple = ()
    style: str = "primary"  # the Bootstrap colour of its button
    help: str = ""  # a sentence shown with its form
    public: bool = True  # whether its event shows on the merchant's timeline
    effect: str = ""  # what else moves with it (the app's own meaning, e.g. the terminal's function)
    labels: tuple = ()  # (field, label) pairs: this step's own label for a field
    confirm: str = ""  # a question the page asks before making the step

    @property
    def fields(self):
        return tuple(dict.fromkeys(self.needs + self.optional))

    def label_for(self, name, default):
        return dict(self.labels).get(name, default)


_REQUIRED = gettext_lazy("This is required for this step.")


class StateMachine:
    """A state machine's table and the questions asked of it.

    `states` is the model's TextChoices; `fields` {name: Field}; `describe(obj)` names the object
    in messages ("Ticket SO20261124-0007"); `scope(obj, user, role)` returns why a user whose role
    the step allows still may not make it on this object (another merchant's, another branch's),
    or None.
    """

    def __init__(self, *, states, transitions, fields, describe, scope=None):
        self.states = states
        self.transitions = tuple(transitions)
        self.fields = dict(fields)
        self.describe = describe
        self.scope = scope
        self._table = {}
        for t in self.transitions:
            for source in t.sources:
                key = (str(source), str(t.target))
                if key in self._table:
                    raise ValueError(f"two transitions {key}")
                self._table[key] = t
            unknown = set(t.fields) - set(self.fields)
            if unknown:
                raise ValueError(f"{t.target}: undeclared fields {sorted(unknown)}")

    def transition(self, status, to):
        """The step from `status` to `to`, or None."""
        return self._table.get((str(status), str(to)))

    def leaving(self, status):
        """Every step out of `status`, in table order."""
        return [t for t in self.transitions if status in t.sources]

    def steps_to(self, to):
        return [t for t in self.transitions if t.target == to]

    def refusal(self, transition, obj, user):
        """Why `user` may not make `transition` on `obj`, or None when they may."""
        role = role_of(user)
        if role not in transition.roles:
            return _("You cannot make this change (%(label)s) in your role.") % {"label": transition.label}
        if self.scope is not None:
            return self.scope(obj, user, role)
        return None

    def allowed(self, obj, user):
        """The steps `user` may make on `obj` now (what the forms and the API offer)."""
        return [t for t in self.leaving(obj.status) if self.refusal(t, obj, user) is None]

    def check(self, obj, to, user):
        """The step to `to` that `user` may make on `obj` now, or WorkflowError: invalid for an
        unknown state, not_allowed when no step leads there from the current state, forbidden when
        this user may not make it."""
        to = str(to or "")
        if to not in self.states.values:
            raise WorkflowError.invalid({"to": [_("Unknown status.")]}, _("Unknown status."))
        transition = self.transition(obj.status, to)
        if transition is None:
            raise WorkflowError(
                _("%(object)s is %(status)s: it cannot become “%(to)s” now.")
                % {"object": self.describe(obj), "status": self.states(obj.status).label, "to": self.states(to).label},
                code="not_allowed",
            )
        refusal = self.refusal(transition, obj, user)
        if refusal:
            raise WorkflowError(refusal, code="forbidden")
        return transition

    def clean(self, transition, data, check=None):
        """The values of `transition`'s fields in `data`, checked against their declaration:
        {name: value} with "" / None / [] for what was not given. `check(cleaned, errors)` adds
        what only the object can tell (errors on fields that are well-formed so far). Raises
        WorkflowError(invalid) with every field's errors."""
        errors = {}
        cleaned = {}
        for name in transition.fields:
            spec = self.fields[name]
            value, problem = _clean_value(spec, spec.value_in(name, data))
            if problem is None and name in transition.needs and value in (None, "", []):
                problem = spec.required_message or _REQUIRED
            if problem is not None:
                errors[name] = [str(problem)]
            cleaned[name] = value
        if check is not None:
            check(cleaned, errors)
        if errors:
            raise WorkflowError.invalid(errors)
        return cleaned


def _clean_value(spec, value):
    """(value, None) or (None, the problem) for one field."""
    kind = spec.kind
    if kind in ("text", "textarea"):
        text = "" if value is None else str(value).strip()
        if spec.max_length and len(text) > spec.max_length:
            return None, _("At most %(n)s characters.") % {"n": spec.max_length}
        return text, None
    if kind == "choice":
        if value is None:
            return "", None
        if str(value) not in spec.choices.values:
            return None, _("Choose one of the choices.")
        return str(value), None
    if kind in ("multiple", "list"):
        if value is None:
            return [], None
        if isinstance(value, str):
            value = value.split(",") if kind == "multiple" else value.replace(",", " ").split()
        items = list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))
        if kind == "multiple":
            unknown = [v for v in items if v not in spec.choices.values]
            if unknown:
                return None, _("Unknown choice: %(names)s.") % {"names": ", ".join(unknown)}
        if spec.max_length and any(len(v) > spec.max_length for v in items):
            return None, _("At most %(n)s characters.") % {"n": spec.max_length}
        return items, None
    if kind == "bool":
        if value is None:
            return None, None
        if isinstance(value, bool):
            return value, None
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "on", "pass", "passed"}:
            return True, None
        if text in {"0", "false", "no", "off", "fail", "failed"}:
            return False, None
        return None, _("Answer yes or no.")
    if kind == "date":
        if value is None or isinstance(value, date):
            return value, None
        try:
            return date.fromisoformat(str(value)), None
        except ValueError:
            return None, _("Enter a valid date.")
    raise ValueError(f"unknown field kind {kind}")
