from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.core.forms import DateInput

MAX_REPORT_DAYS = 731


class ReportRangeForm(forms.Form):
    start = forms.DateField(label=_("From"), widget=DateInput())
    end = forms.DateField(label=_("To"), widget=DateInput())

    def __init__(self, data=None, **kwargs):
        today = timezone.localdate()
        initial = {"start": today - timedelta(days=29), "end": today}
        # An empty query string means "the last 30 days", not a form full of errors.
        bound = data if data and ("start" in data or "end" in data) else None
        super().__init__(bound, initial=initial, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.layout = Layout(
            Row(
                Column("start", css_class="col-sm-4"),
                Column("end", css_class="col-sm-4"),
                Column(Submit("", _("Show"), css_class="btn-primary mt-sm-4"), css_class="col-sm-4"),
            )
        )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError(_("The start date is after the end date."))
            if (end - start).days > MAX_REPORT_DAYS:
                raise forms.ValidationError(_("Choose a period of at most two years."))
        return data

    def period(self):
        """(start, end) dates: the submitted ones when valid, otherwise the last 30 days."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        return self.initial["start"], self.initial["end"]
