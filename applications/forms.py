from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications import selectors, workflow
from applications.models import Application, ApplicationDocument, plan_terms
from portal.accounts.models import Channel
from portal.core.forms import DATE_WIDGET, StepForm, button
from portal.core.uploads import DOCUMENT_TYPES, check_upload
from terminals.models import Deregistration

DATE = DATE_WIDGET


def plan_description(fee_plan, terms=None):
    """One sentence with a plan's terms, e.g. for the radio buttons and the detail page."""
    terms = terms or plan_terms(fee_plan)
    if fee_plan == Application.FeePlan.PURCHASE:
        return _("Buy the terminal once for %(amount)s yuan; it is yours to keep.") % {"amount": terms["amount"]}
    if fee_plan == Application.FeePlan.DEPOSIT:
        return _(
            "Pay a deposit of %(amount)s yuan, refunded automatically once your terminals process "
            "%(target)s yuan of card payments within %(months)s months of activation."
        ) % {"amount": terms["amount"], "target": f"{terms['target']:,.0f}", "months": terms["months"]}
    return _("No fee: the channel provides the terminal free of charge.")


def plan_choices():
    return [
        (value, f"{label} — {plan_description(value)}") for value, label in Application.FeePlan.choices
    ]


class ApplyForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What do you need?"), choices=Application.Kind.choices, widget=forms.RadioSelect
    )
    ticket = forms.CharField(label=_("Service-order number of the unrepairable terminal"), required=False,
                             max_length=20)
    channel = forms.ModelChoiceField(
        label=_("Channel"), queryset=Channel.objects.filter(is_active=True), to_field_name="code",
        empty_label=None, help_text=_("The bank itself or a licensed payment company."),
    )
    quantity = forms.IntegerField(label=_("Number of terminals"), min_value=1, max_value=20, initial=1)
    fee_plan = forms.ChoiceField(label=_("Fee plan"), widget=forms.RadioSelect)
    remarks = forms.CharField(label=_("Remarks"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fee_plan"].choices = plan_choices()
        self.ticket_obj = ticket
        if ticket is not None:
            # A replacement starts from its ticket: kind, ticket and channel come prefilled.
            self.fields["kind"].initial = Application.Kind.REPLACEMENT
            self.fields["ticket"].initial = ticket.service_order_no
            self.fields["channel"].initial = ticket.terminal.channel.code
            self.fields["quantity"].widget = forms.HiddenInput()
        else:
            self.fields["kind"].initial = Application.Kind.NEW
        self.fields["fee_plan"].initial = Application.FeePlan.PURCHASE
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Create the application")))


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Document"), choices=ApplicationDocument.Kind.choices)
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, application=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_class = "row g-2 align-items-end"
        if application is not None:
            self.helper.form_action = reverse("applications:document_upload", args=[application.number])
        self.helper.add_input(Submit("submit", _("Upload")))

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        self.cleaned_data["content_type"] = check_upload(uploaded, allowed=DOCUMENT_TYPES)
        return uploaded


class VerdictForm(forms.Form):
    verdict = forms.ChoiceField(
        choices=[(ApplicationDocument.Verdict.VERIFIED, _("Verify")), (ApplicationDocument.Verdict.REJECTED, _("Reject"))]
    )
    reason = forms.CharField(label=_("Reason (when rejecting)"), required=False, max_length=500)


class TransitionForm(StepForm):
    """One application step's form: only the fields the workflow table lists for it."""

    def __init__(self, *args, application, transition, **kwargs):
        super().__init__(*args, machine=workflow.MACHINE, transition=transition, obj=application,
                         action=reverse("applications:transition", args=[application.number]), **kwargs)

    def prepare(self, application):
        if "fee_plan" in self.fields:
            self.fields["fee_plan"].choices = plan_choices()
            self.fields["fee_plan"].initial = application.fee_plan
        if "terminal" in self.fields:
            stock = selectors.in_stock_terminals(application)
            self.fields["terminal"].choices = [
                (t.serial_number, f"{t.serial_number} · {t.model} · {t.tag_number}") for t in stock[:200]
            ]
            self.fields["terminal"].help_text = _("Choose %(count)s.") % {"count": application.quantity}
            self.fields["terminal"].widget.attrs["size"] = 6
        if "training_date" in self.fields:
            self.fields["training_date"].initial = timezone.localdate()


class InspectionForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = ["interview_date", "interview_notes", "inspection_date", "inspection_notes"]
        widgets = {
            "interview_date": DATE,
            "inspection_date": DATE,
            "interview_notes": forms.Textarea(attrs={"rows": 2}),
            "inspection_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("interview_date", "inspection_date", "inspection_notes"):
            self.fields[name].required = True
        self.helper = FormHelper()
        self.helper.form_action = reverse("applications:inspection", args=[self.instance.number])
        self.helper.add_input(button(_("Save the inspection record"), "outline-primary"))


class DeregistrationForm(forms.Form):
    method = forms.ChoiceField(label=_("How it left service"), choices=Deregistration.Method.choices)
    certificate_number = forms.CharField(label=_("Certificate number"), max_length=60)
    witness = forms.CharField(label=_("Witness"), max_length=100)
    date = forms.DateField(label=_("Date"), widget=DATE)

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate()
        self.fields["method"].initial = Deregistration.Method.DESTROYED
        self.helper = FormHelper()
        self.helper.form_action = reverse("applications:deregistration", args=[application.number])
        self.helper.add_input(button(_("Record the deregistration"), "outline-danger"))


class VolumeForm(forms.Form):
    terminal = forms.ChoiceField(label=_("Terminal"))
    month = forms.DateField(label=_("Month"), input_formats=["%Y-%m", "%Y-%m-%d"],
                            widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
    amount = forms.DecimalField(label=_("Card volume (yuan)"), min_value=0, max_digits=14, decimal_places=2)

    def __init__(self, *args, application, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terminal"].choices = [(t.serial_number, t.serial_number) for t in application.terminals.all()]
        self.helper = FormHelper()
        self.helper.form_action = reverse("applications:volume", args=[application.number])
        self.helper.form_class = "row g-2 align-items-end"
        self.helper.add_input(button(_("Record the volume"), "outline-primary"))


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Being handled"))] + list(Application.Status.choices))
    channel = forms.ModelChoiceField(label=_("Channel"), required=False, queryset=Channel.objects.all(),
                                     to_field_name="code", empty_label=_("All channels"))
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All kinds"))] + list(Application.Kind.choices))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row row-cols-md-auto g-2 align-items-end"
        self.helper.add_input(Submit("", _("Filter")))
