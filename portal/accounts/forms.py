from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import MerchantDocument, User
from portal.core.uploads import DOCUMENT_TYPES, check_upload


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False  # the page's own form carries `next`
        self.helper.add_input(Submit("submit", _("Sign in"), css_class="w-100"))


class MerchantSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search merchants"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("Name, credit code, contact or phone")}),
    )
    city = forms.CharField(label=_("City"), required=False, max_length=50)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row row-cols-md-auto g-2 align-items-end"
        self.helper.add_input(Submit("", _("Search")))


class MerchantDocumentForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Document"),
        choices=MerchantDocument.Kind.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Upload")))

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        self.cleaned_data["content_type"] = check_upload(uploaded, allowed=DOCUMENT_TYPES)
        return uploaded


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "phone", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save")))
