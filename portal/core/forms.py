"""Page forms built from a state machine's field declaration (portal.core.workflow), so a step's
form asks for exactly what its transition takes, with the same limits the workflow checks."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms


class ActionButton(Submit):
    """A submit button in its own Bootstrap colour (crispy's Submit always adds btn-primary)."""

    field_classes = "btn"


def button(label, style="primary", name="submit", **attrs):
    return ActionButton(name, label, css_class=f"btn-{style}", **attrs)


class DateInput(forms.DateInput):
    """`<input type="date">`. Its value must be ISO 8601 (2026-11-24) for the browser to show it,
    whatever the page's language: Django would otherwise write the language's own format (2026/11/24)."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):
        super().__init__(attrs, format=format)


DATE_WIDGET = DateInput()


def form_field(spec, *, required, label=None):
    """The Django form field of one workflow Field."""
    common = {"required": required, "label": label or spec.label, "help_text": spec.help}
    if spec.kind == "text":
        return forms.CharField(max_length=spec.max_length, widget=forms.TextInput(attrs={"autocomplete": "off"}),
                               **common)
    if spec.kind == "textarea":
        return forms.CharField(max_length=spec.max_length, widget=forms.Textarea(attrs={"rows": 2}), **common)
    if spec.kind == "choice":
        return forms.ChoiceField(choices=spec.choices.choices, **common)
    if spec.kind == "multiple":
        return forms.MultipleChoiceField(choices=spec.choices.choices, widget=forms.CheckboxSelectMultiple, **common)
    if spec.kind == "list":
        return forms.MultipleChoiceField(choices=(), **common)
    if spec.kind == "bool":
        return forms.NullBooleanField(widget=forms.HiddenInput, **{**common, "required": False})
    if spec.kind == "date":
        return forms.DateField(widget=DATE_WIDGET, **common)
    raise ValueError(f"unknown field kind {spec.kind}")


class StepForm(forms.Form):
    """The form of one workflow step: a hidden `to` and the fields its transition takes.

    Subclasses fill in what depends on the object (choices read from the database, initial
    values) in `prepare(obj)`."""

    to = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, machine, transition, obj, action, **kwargs):
        # Several step forms share a page: each gets its own ids.
        kwargs.setdefault("auto_id", f"id_{transition.target}_%s")
        kwargs.setdefault("initial", {})
        kwargs["initial"]["to"] = transition.target
        super().__init__(*args, **kwargs)
        self.machine = machine
        self.transition = transition
        for name in transition.fields:
            spec = machine.fields[name]
            self.fields[name] = form_field(spec, required=name in transition.needs,
                                           label=transition.label_for(name, spec.label))
        self.prepare(obj)
        self.helper = FormHelper()
        self.helper.form_action = action
        self.helper.form_id = f"transition-{transition.target}"
        self.helper.attrs = {"data-testid": f"transition-{transition.target}"}
        attrs = {"data_testid": f"do-{transition.target}"}
        if transition.confirm:
            attrs["data_confirm"] = transition.confirm
        self.helper.add_input(button(transition.label, transition.style, name=f"submit_{transition.target}", **attrs))

    def prepare(self, obj):
        """Object-dependent choices and initial values (nothing by default)."""

    def step_fields(self):
        """What the workflow is given: the transition's fields that were filled in."""
        return {k: v for k, v in self.cleaned_data.items()
                if k in self.transition.fields and v not in (None, "", [])}
