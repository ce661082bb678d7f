from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from notifications import kinds, wechat
from notifications.models import Notification
from notifications.services import USER_CHANNELS, channels_for


class DeliveryLogFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("status"), required=False, choices=[("", _("Any status")), *Notification.Status.choices]
    )
    channel = forms.ChoiceField(
        label=_("delivery channel"),
        required=False,
        choices=[("", _("Any channel")), *Notification.Channel.choices],
    )
    kind = forms.ChoiceField(label=_("kind"), required=False)
    recipient = forms.CharField(
        label=_("recipient"), required=False, max_length=150, help_text=_("User name or id")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Any kind")), *((k.code, k.label) for k in kinds.KINDS.values())]
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "row row-cols-lg-auto g-2 align-items-end mb-3"
        self.helper.form_show_labels = True
        self.helper.layout = Layout(
            Field("status", wrapper_class="col"),
            Field("channel", wrapper_class="col"),
            Field("kind", wrapper_class="col"),
            Field("recipient", wrapper_class="col"),
            Submit("filter", _("Filter"), css_class="btn-secondary mb-3"),
        )


class PreferencesForm(forms.Form):
    """One checkbox per (kind, channel) and the quiet hours; merchants always keep in-app. WeChat
    is offered while the portal has an Official Account, and can be ticked once it is bound."""

    quiet_start = forms.TimeField(
        label=_("Quiet hours start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours end"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_(
            "Text messages are held during these hours (China Standard Time) and sent when they end."
        ),
    )

    def __init__(self, *args, user, preference=None, wechat_bound=False, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.kinds = kinds.offered_to(user)
        self.offered = [c for c in USER_CHANNELS if c != Notification.Channel.WECHAT or wechat.is_configured()]
        self.channel_labels = [Notification.Channel(c).label for c in self.offered]
        self.wechat_bound = wechat_bound
        self.rows = []
        for kind, label in self.kinds:
            current = set(channels_for(user, kind, preference, wechat_bound))
            cells = []
            for channel in self.offered:
                name = f"{kind}__{channel}"
                locked = channel == Notification.Channel.IN_APP and user.is_merchant
                unavailable = channel == Notification.Channel.WECHAT and not wechat_bound
                self.fields[name] = forms.BooleanField(
                    required=False,
                    initial=channel in current or locked,
                    disabled=locked or unavailable,
                    label=f"{label}: {Notification.Channel(channel).label}",
                )
                cells.append(name)
            self.rows.append((label, [self[name] for name in cells]))
        if preference is not None:
            self.fields["quiet_start"].initial = preference.quiet_start
            self.fields["quiet_end"].initial = preference.quiet_end
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(Field("quiet_start"), Field("quiet_end"))

    def clean(self):
        data = super().clean()
        if bool(data.get("quiet_start")) != bool(data.get("quiet_end")):
            raise forms.ValidationError(_("Give both the start and the end of the quiet hours, or neither."))
        return data

    def channels(self):
        chosen = {}
        for kind, _label in self.kinds:
            chosen[kind] = [c for c in self.offered if self.cleaned_data.get(f"{kind}__{c}")]
        return chosen
