"""The kinds of event that notify people, and the status names their messages show: a registry.

Notifications knows events, not workflows: each app registers the kinds it sends (and the status
names of its state machine) from its AppConfig.ready(), and this area renders and delivers them.

A kind names a template set in templates/notifications/<kind>/ (subject.txt, body.txt, body.html,
sms.txt, line.txt); a kind without its own set uses templates/notifications/default/.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    # Only staff are told; merchants are not offered it on the preferences page.
    staff_only: bool = False
    # Daily reminders would flood mailboxes and phones: in-app only unless the user opts in.
    quiet: bool = False


# code -> Kind, in registration order (INSTALLED_APPS order: the preferences page lists them so).
KINDS = {}
# family -> {status code: label}: what `{{ code|status_label:"family" }}` shows.
STATUS_LABELS = {}


def register(code, label, *, staff_only=False, quiet=False):
    """Declare a kind of notification (an app's AppConfig.ready() calls this)."""
    KINDS[code] = Kind(code, label, staff_only=staff_only, quiet=quiet)


def register_statuses(family, choices):
    """Declare the status names of a state machine (a TextChoices class) under `family`."""
    STATUS_LABELS[family] = choices


def offered_to(user):
    """The kinds `user` may choose channels for, as (code, label)."""
    return [(k.code, k.label) for k in KINDS.values() if user.is_staff_role or not k.staff_only]


def is_quiet(code):
    kind = KINDS.get(code)
    return kind is not None and kind.quiet


def status_label(code, family):
    """The name of status `code` of `family` in the active language (the code itself if unknown)."""
    choices = STATUS_LABELS.get(family)
    if choices is None or code not in choices.values:
        return code
    return str(choices(code).label)
