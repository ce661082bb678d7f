"""What the outside providers (SMS, WeChat) share: how a failure is told, and which approved
template a message uses.

A provider's failure is either worth retrying (throttling, a network error, the provider's own
fault: TransientError or any other exception, retried with backoff by the delivery) or final (a bad
number, an unapproved template, a user who unfollowed: PermanentError, the row is `failed` at once).
"""

from django.conf import settings


class PermanentError(Exception):
    """A delivery that will never succeed (e.g. a webhook answering 4xx): no more retries."""


class TransientError(Exception):
    """A provider that said "not now" (throttling, a system error): retried with backoff."""


def provider_error(code, message, permanent):
    """The exception for a provider's error `code`: final when `permanent(code)` says so."""
    text = f"{code}: {message}" if message else str(code)
    return PermanentError(text) if code and permanent(code) else TransientError(text)


def template_for(table, kind, language):
    """(kind, entry) of the approved template for `kind` in `language` from a {kind: {language:
    entry}} setting (SMS_TEMPLATES, WECHAT_TEMPLATES): the kind's own, else the "default" kind's,
    in the recipient's language, else in the portal's. An entry that is not a {language: …} dict
    serves every language. The kind returned is the one whose params.txt fills the template.
    PermanentError when there is none."""
    for lang in (language, settings.LANGUAGE_CODE):
        for candidate in (kind, "default"):
            entries = table.get(candidate)
            if not entries:
                continue
            if not isinstance(entries, dict) or "id" in entries:
                return candidate, entries
            if entries.get(lang):
                return candidate, entries[lang]
    raise PermanentError(f"no approved template for {kind!r} in {language!r}: add it to the settings")
