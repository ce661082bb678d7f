"""System checks of the SMS and WeChat settings: a malformed template table or a provider chosen
without its credentials is reported by `manage.py check` (and on every start), not at the first
message."""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils.module_loading import import_string

from notifications import kinds


def _entries(table):
    """(kind, language or None, entry) of a {kind: entry | {language: entry}} table."""
    for kind, value in table.items():
        if isinstance(value, dict) and "id" not in value:
            for language, entry in value.items():
                yield kind, language, entry
        else:
            yield kind, None, value


def _table_errors(name, table, valid_entry, example):
    if not isinstance(table, dict):
        return [Error(f"{name} must be a JSON object {example}.", id="notifications.E001")]
    problems = []
    languages = {code for code, _label in settings.LANGUAGES}
    for kind, language, entry in _entries(table):
        where = f"{name}[{kind!r}]" + (f"[{language!r}]" if language else "")
        if not valid_entry(entry):
            problems.append(Error(f"{where} is not a template entry {example}.", id="notifications.E002"))
        if language is not None and language not in languages:
            problems.append(Warning(f"{where}: unknown language {language!r} (one of {sorted(languages)}).",
                                    id="notifications.W001"))
        if kind != "default" and kind not in kinds.KINDS:
            problems.append(Warning(f"{where}: no notification kind {kind!r} is registered.", id="notifications.W002"))
    return problems


def _wechat_entry(entry):
    if isinstance(entry, str):
        return bool(entry)
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("id"), str)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in (entry.get("fields") or {}).items())
    )


@register()
def check_providers(app_configs, **kwargs):
    problems = _table_errors(
        "SMS_TEMPLATES", settings.SMS_TEMPLATES, lambda e: isinstance(e, str) and bool(e),
        '{"ticket.status": {"zh-hans": "SMS_123", "en": "SMS_124"}}',
    )
    problems += _table_errors(
        "WECHAT_TEMPLATES", settings.WECHAT_TEMPLATES, _wechat_entry,
        '{"ticket.status": {"zh-hans": {"id": "…", "fields": {"thing2": "status"}}}}',
    )
    try:
        backend = import_string(settings.SMS_BACKEND)
    except ImportError as exc:
        return [*problems, Error(f"SMS_BACKEND {settings.SMS_BACKEND!r} cannot be imported: {exc}",
                                 id="notifications.E003")]
    if getattr(backend, "uses_templates", False):
        needed = ["SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET", "SMS_SIGN_NAME"]
        if backend.__name__ == "TencentBackend":
            needed.append("SMS_TENCENT_SDK_APP_ID")
        problems += [
            Error(f"{name} is needed by SMS_BACKEND {settings.SMS_BACKEND}.", id="notifications.E004")
            for name in needed if not getattr(settings, name)
        ]
        if not settings.SMS_TEMPLATES:
            problems.append(Error("SMS_TEMPLATES is empty: the provider sends approved templates only.",
                                  id="notifications.E005"))
    if settings.WECHAT_APP_ID and not settings.WECHAT_APP_SECRET:
        problems.append(Error("WECHAT_APP_SECRET is needed with WECHAT_APP_ID.", id="notifications.E006"))
    return problems
