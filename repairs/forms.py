"""Forms of the ticket pages. They check shapes; the workflow decides (and checks again)."""

from datetime import date, datetime, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.core.files import IMAGE_TYPES, check_upload
from repairs import selectors
from repairs.models import FaultTicket, RepairRequest

ATTACHMENT_TYPES = {**IMAGE_TYPES, "application/pdf": "pdf"}


def contact_windows(merchant):
    """Suggested call-back windows outside the merchant's business hours (calls are best made then)."""
    def shift(t, minutes):
        return (datetime.combine(date.today(), t) + timedelta(minutes=minutes)).time()

    suggestions = []
    opens, closes = merchant.opens_at, merchant.closes_at
    if opens.hour >= 7:
        suggestions.append(
            _("%(start)s–%(end)s (before opening)") % {"start": f"{shift(opens, -60):%H:%M}", "end": f"{opens:%H:%M}"}
        )
    if closes.hour < 23:
        suggestions.append(
            _("%(start)s–%(end)s (after closing)") % {"start": f"{closes:%H:%M}", "end": f"{shift(closes, 60):%H:%M}"}
        )
    return suggestions


class TicketFieldsMixin:
    def _ticket_fields(self):
        self.fields["fault_type"] = forms.ChoiceField(label=_("Fault type"), choices=FaultTicket.FaultType.choices)
        self.fields["symptoms"] = forms.CharField(
            label=_("Symptoms"), max_length=4000,
            widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("What does the terminal do? Any message on screen?")}),
        )
        self.fields["contact_window"] = forms.CharField(
            label=_("Preferred contact window"), max_length=100, required=False,
            help_text=_("When we may call you back; outside your business hours is best."),
            widget=forms.TextInput(attrs={"list": "contact-windows", "autocomplete": "off"}),
        )


class ReportForm(TicketFieldsMixin, forms.Form):
    """A merchant reports a fault on one of its own terminals."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terminal"] = forms.ModelChoiceField(
            label=_("Terminal"), queryset=selectors.reportable_terminals(user), to_field_name="serial_number",
            empty_label=None,
        )
        self.fields["terminal"].label_from_instance = lambda t: f"{t.serial_number} · {t.model} · {t.tag_number}"
        self._ticket_fields()
        windows = contact_windows(user.merchant)
        self.contact_windows = windows
        if windows and not self.is_bound:
            self.initial.setdefault("contact_window", windows[0])
        self.helper = FormHelper()
        self.helper.attrs = {"data-testid": "report-form"}
        self.helper.add_input(Submit("submit", _("Report the fault")))


class LogCallForm(TicketFieldsMixin, forms.Form):
    """An agent logs a merchant's phone call as a ticket on the chosen terminal."""

    terminal = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._ticket_fields()
        self.fields["priority"] = forms.ChoiceField(
            label=_("Priority"), choices=FaultTicket.Priority.choices, initial=FaultTicket.Priority.NORMAL,
            help_text=_("“Cannot accept payments” is usually high."),
        )
        self.contact_windows = contact_windows(merchant) if merchant else []
        self.helper = FormHelper()
        self.helper.attrs = {"data-testid": "log-call-form"}
        self.helper.add_input(Submit("submit", _("Log the call")))


def _note(spec, ticket):
    return forms.CharField(
        label=spec.note_label, required="note" in spec.needs, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _branch(spec, ticket):
    choices = [
        (b.code, f"{b.code} {b.name} · {b.city} · {b.address}") for b in selectors.branches_for_escalation(ticket)
    ]
    return forms.ChoiceField(label=_("Branch the merchant should visit"), choices=choices,
                             help_text=_("Branches in the merchant's city come first."))


def _text(label, *, required=True, rows=None, **attrs):
    def build(spec, ticket):
        widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput(attrs=attrs)
        return forms.CharField(label=label, required=required, max_length=4000, widget=widget)

    return build


FIELD_BUILDERS = {
    "note": _note,
    "branch": _branch,
    "tag_number": _text(_("Tag number on the device"), autocomplete="off"),
    "serial_number": _text(_("Terminal number (serial) on the device"), autocomplete="off"),
    "documents": lambda spec, ticket: forms.MultipleChoiceField(
        label=_("Documents presented"), choices=RepairRequest.Document.choices,
        widget=forms.CheckboxSelectMultiple,
    ),
    "diagnosis": _text(_("Diagnosis"), rows=3),
    "work_done": _text(_("Work done"), rows=3),
    "parts": _text(_("Parts replaced"), required=False),
    "pickup_code": _text(_("The merchant's pickup code"), autocomplete="off", inputmode="numeric"),
}


class ActionButton(Submit):
    """A submit button in the transition's own colour (Submit always adds btn-primary)."""

    field_classes = "btn"


class TransitionForm(forms.Form):
    """The form of one transition, with exactly the fields the table says it needs."""

    to = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, spec, ticket, **kwargs):
        kwargs.setdefault("auto_id", f"id_{spec.target}_%s")
        kwargs.setdefault("initial", {})
        kwargs["initial"].update(to=spec.target, version=ticket.version)
        super().__init__(*args, **kwargs)
        self.spec = spec
        for name in spec.fields:
            if name in FIELD_BUILDERS:
                self.fields[name] = FIELD_BUILDERS[name](spec, ticket)
        self.helper = FormHelper()
        self.helper.form_action = reverse("tickets:transition", args=[ticket.service_order_no])
        self.helper.attrs = {"data-testid": f"transition-{spec.target}"}
        self.helper.add_input(
            ActionButton(f"submit_{spec.target}", spec.label, css_class=f"btn-{spec.style}",
                         data_testid=f"do-{spec.target}")
        )

    def workflow_fields(self):
        data = {k: v for k, v in self.cleaned_data.items() if k in self.spec.fields and v not in (None, "")}
        data["version"] = self.cleaned_data.get("version")
        return data


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    # Staff notes (e.g. remote diagnosis notes) stay internal unless ticked.
    is_public = forms.BooleanField(label=_("Visible to the merchant"), required=False, initial=False)

    def __init__(self, *args, user, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.is_staff_role:
            del self.fields["is_public"]
        else:
            self.fields["body"].label = _("Diagnosis note or comment")
        self.helper = FormHelper()
        self.helper.form_action = reverse("tickets:comment", args=[ticket.service_order_no])
        self.helper.attrs = {"data-testid": "comment-form"}
        self.helper.add_input(ActionButton("submit", _("Add comment"), css_class="btn-outline-primary"))


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("Photo or PDF (JPEG, PNG or PDF)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}),
    )
    is_public = forms.BooleanField(label=_("Visible to the merchant"), required=False, initial=True)

    def __init__(self, *args, user, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.is_staff_role:
            del self.fields["is_public"]
        self.helper = FormHelper()
        self.helper.form_action = reverse("tickets:attach", args=[ticket.service_order_no])
        self.helper.attrs = {"data-testid": "attach-form"}
        self.helper.add_input(ActionButton("submit", _("Attach"), css_class="btn-outline-primary"))

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        self.cleaned_data["content_type"] = check_upload(uploaded, allowed=ATTACHMENT_TYPES)
        return uploaded


class QueueSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
