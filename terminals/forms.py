"""Forms of the terminal pages. Forms validate; services act (and refuse again, for races)."""

import django_filters
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import Branch, Channel, Merchant
from portal.core.filters import FilterSet
from portal.core.forms import DateInput
from terminals.imports import check_import_file
from terminals.models import Deregistration, MaintenanceRecord, Terminal, validate_mid, validate_tid

NO_CROSS_USE = _(
    "Terminal %(serial)s is not in stock: a terminal belongs to one merchant and can be issued to "
    "another only after deregistration and re-issue by staff."
)


def _model_choices():
    return [(m, m) for m in Terminal.objects.order_by("model").values_list("model", flat=True).distinct()]


class TerminalFilter(FilterSet):
    """Search and filters of the staff terminal list (and its CSV export)."""

    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        widget=forms.TextInput(attrs={"placeholder": _("Serial, tag, TID, MID or merchant"), "type": "search"}),
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Terminal.Status.choices)
    channel = django_filters.ModelChoiceFilter(
        label=_("Channel"), queryset=Channel.objects.all(), to_field_name="code"
    )
    branch = django_filters.ModelChoiceFilter(
        label=_("Branch"), field_name="home_branch", queryset=Branch.objects.all(), to_field_name="code"
    )
    model = django_filters.ChoiceFilter(label=_("Model"), choices=_model_choices)

    class Meta:
        model = Terminal
        fields = ["q", "status", "channel", "branch", "model"]

    def filter_q(self, queryset, name, value):
        return queryset.search(value)

    @property
    def form(self):
        form = super().form
        if not hasattr(form, "helper"):
            form.helper = FormHelper()
            form.helper.form_method = "get"
            form.helper.form_class = "row row-cols-md-auto g-2 align-items-end"
            form.helper.add_input(Submit("", _("Search")))
        return form


class MaintenanceForm(forms.Form):
    kind = forms.ChoiceField(choices=MaintenanceRecord.Kind.choices)


class IssueForm(forms.Form):
    merchant = forms.CharField(
        label=_("Merchant's unified social credit code"),
        max_length=18,
        widget=forms.TextInput(attrs={"placeholder": "91310000MA…", "autocomplete": "off"}),
    )
    home_branch = forms.ModelChoiceField(
        label=_("Home branch"), queryset=Branch.objects.filter(is_active=True), required=False
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, terminal, **kwargs):
        self.terminal = terminal
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_merchant(self):
        code = self.cleaned_data["merchant"].strip().upper()
        merchant = Merchant.objects.filter(credit_code=code).first()
        if merchant is None:
            raise ValidationError(_("No merchant has this credit code."))
        return merchant

    def clean(self):
        cleaned = super().clean()
        merchant = cleaned.get("merchant")
        t = self.terminal
        if t.status != Terminal.Status.IN_STOCK or (merchant and t.merchant_id and t.merchant_id != merchant.pk):
            raise ValidationError(NO_CROSS_USE % {"serial": t.serial_number})
        return cleaned


class ActivateForm(forms.Form):
    tid = forms.CharField(label=_("TID"), min_length=8, max_length=8, validators=[validate_tid])
    mid = forms.CharField(label=_("MID"), min_length=15, max_length=15, validators=[validate_mid])
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, terminal=None, **kwargs):
        super().__init__(*args, **kwargs)
        if terminal is not None and not self.is_bound:
            self.initial.setdefault("tid", terminal.tid)
            self.initial.setdefault("mid", terminal.mid)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_tid(self):
        return self.cleaned_data["tid"].strip().upper()


class DeregistrationForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Method"), choices=Deregistration.Method.choices, widget=forms.RadioSelect
    )
    certificate_number = forms.CharField(label=_("Certificate number"), max_length=60)
    witness = forms.CharField(label=_("Witness"), max_length=100)
    date = forms.DateField(label=_("Date"), widget=DateInput())
    # Set by the confirmation step: the first POST shows a summary, the second records.
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date"].initial = timezone.localdate
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_date(self):
        date = self.cleaned_data["date"]
        if date > timezone.localdate():
            raise ValidationError(_("The date cannot be in the future."))
        return date


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Inventory file (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Import")))

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        self.cleaned_data["format"] = check_import_file(uploaded)
        return uploaded
