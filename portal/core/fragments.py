"""Rows of a list, rendered once and then served from the cache ("content-addressed" fragments).

A list page spends most of its time rendering the same table rows again and again: a ticket's row
only changes when something it shows changes. `render_rows` keys each row by a digest of exactly
what the row shows (the values `key` returns), the flags passed in `context`, the language and
time zone, the template's own source and the release being served (see `release`); so a cached
row is never stale — a changed value is a new key — and nothing has to be invalidated. A page
fetches all its rows in one cache round trip (get_many) and renders only the rows it has never
seen. `render_form_once` does the same for blank crispy forms.

Because a key never names two different contents, a fragment is read first from this worker's own
memory (the `fragments` cache, a bounded LocMemCache) and only then from the shared cache (Redis in
production), which fills the worker's copy: a warm worker renders a list with no cache round trip.
"""

import copy
import hashlib
import os
from functools import lru_cache
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.cache import cache, caches
from django.template.loader import get_template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from portal.core.forms import DateInput

# A row unseen for an hour leaves the cache: only the working set stays (the cache shares Redis
# with the Celery broker, so it must not grow with every ticket ever viewed). Nothing is stale
# whatever this is: a changed row has a new key.
ROW_SECONDS = 3600


def get_many(keys):
    """{key: html} of the fragments found: this worker's memory first, then the shared cache."""
    local = caches["fragments"]
    found = local.get_many(keys)
    wanted = [key for key in keys if key not in found]
    if wanted:
        shared = cache.get_many(wanted)
        if shared:
            local.set_many(shared, ROW_SECONDS)
            found.update(shared)
    return found


def set_many(entries, seconds=ROW_SECONDS):
    """Keep newly rendered fragments in this worker's memory and in the shared cache."""
    caches["fragments"].set_many(entries, seconds)
    cache.set_many(entries, seconds)


def _load(name):
    """The compiled template and a digest of its source (a changed template makes new keys)."""
    template = get_template(name)
    source = getattr(getattr(template, "template", None), "source", "") or name
    return template, hashlib.blake2b(source.encode(), digest_size=8).hexdigest()


_load_once = lru_cache(maxsize=64)(_load)


def _template(name):
    return _load(name) if settings.DEBUG else _load_once(name)  # DEBUG: edits show at once


def render_rows(template_name, objects, key, context=None, *, name="obj"):
    """Render `template_name` once per object (the object as `name`, plus `context`) and join the
    HTML. `key(obj)` returns a tuple of every value the row shows."""
    context = context or {}
    template, source_digest = _template(template_name)
    flags = repr(sorted(context.items()))
    prefix = f"row:{release()}:{source_digest}:{get_language()}:{timezone.get_current_timezone_name()}:"
    keys = []
    for obj in objects:
        digest = hashlib.blake2b(repr((flags, key(obj))).encode(), digest_size=16).hexdigest()
        keys.append(prefix + digest)
    html = render_each(keys, objects, lambda obj: template.render({**context, name: obj}))
    return mark_safe("".join(html))  # noqa: S308 - rendered by our own auto-escaping templates


def render_each(keys, objects, render):
    """[what `render(obj)` gives] for each object, read from the fragments under its key (one that
    names its content) and rendered only when missing; what was rendered is kept for next time."""
    found = get_many(keys) if keys else {}
    out, missing = [], {}
    for key, obj in zip(keys, objects, strict=True):
        fragment = found.get(key)
        if fragment is None:
            fragment = missing[key] = render(obj)
        out.append(fragment)
    if missing:
        set_many(missing)
    return out


CSRF_SENTINEL = "\x00csrf-token\x00"
# The widgets whose HTML shows a value only as value="…": a form of these is the same HTML whatever
# is typed in, but for that attribute (choices, check boxes and text areas are rendered afresh).
TEXT_INPUTS = (forms.TextInput, forms.NumberInput, forms.EmailInput, forms.URLInput, forms.SearchInput,
               forms.TelInput, forms.HiddenInput, forms.DateInput, DateInput)


def _sentinel(name):
    return f"\x00value-{name}\x00"


def render_form_once(request, form, *, seconds=ROW_SECONDS):
    """A crispy form's HTML, rendered once per form and then served from the cache.

    A blank form's HTML is determined by its class, its fields (labels, widgets, choices, initial
    values), its helper (action, attributes, buttons) and the language: `form_digest` keys on all
    of them. The CSRF token, the one per-visitor part, goes in afterwards.
    A valid bound form of text inputs only (a lookup such as public tracking) is the same HTML with
    what was typed in as each input's value: rendered once with placeholders, the values (escaped)
    go in afterwards. Any other bound form (errors, choices, text areas) is rendered afresh.
    """
    from crispy_forms.utils import render_crispy_form
    from django.middleware.csrf import get_token

    typed = {}
    if form.is_bound:
        text_only = all(type(f.widget) in TEXT_INPUTS for f in form.fields.values())
        if not (text_only and form.is_valid()):
            return render_crispy_form(form, context={"request": request, "csrf_token": get_token(request)})
        typed = {name: form[name].value() for name in form.fields}
    cache_key = f"form:{release()}:{get_language()}:{form_digest(form)}:{'typed' if typed else 'blank'}"
    html = get_many([cache_key]).get(cache_key)
    if html is None:
        shown = form
        if typed:  # the same form with placeholders where the typed values go
            shown = copy.copy(form)
            shown.data = {form.add_prefix(name): _sentinel(name) for name in typed}
            shown._bound_fields_cache = {}
        html = render_crispy_form(shown, context={"csrf_token": CSRF_SENTINEL})
        if typed and any(_sentinel(name) not in html for name in typed):
            return render_crispy_form(form, context={"request": request, "csrf_token": get_token(request)})
        set_many({cache_key: html}, seconds)
    html = html.replace(CSRF_SENTINEL, get_token(request))
    for name, value in typed.items():
        html = html.replace(_sentinel(name), escape("" if value is None else str(value)))
    return mark_safe(html)  # noqa: S308 - our own rendering, the typed values escaped


def form_digest(form):
    """A digest of everything a blank form's HTML is made of."""
    cls = type(form)
    parts = [cls.__module__, cls.__qualname__, form.prefix, form.auto_id]
    for name, field in form.fields.items():
        widget = field.widget
        parts.append((
            name, type(field).__name__, type(widget).__name__, str(field.label), str(field.help_text),
            field.required, field.disabled, repr(sorted(widget.attrs.items())),
            repr(form.get_initial_for_field(field, name)),
            repr([(v, str(label)) for v, label in getattr(field, "choices", ())]),
        ))
    helper = getattr(form, "helper", None)
    if helper is not None:
        parts.append((helper.form_action, helper.form_method, repr(sorted(helper.attrs.items())),
                      helper.form_tag, repr([(type(i).__name__, i.name, str(i.value), i.id, i.field_classes, i.template,
                                              str(i.flat_attrs)) for i in helper.inputs])))
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


@lru_cache(maxsize=1)
def release():
    """A digest of the code, templates and translations being served: a deploy that changes any of
    them (a label, a translation) changes every fragment key, so nothing rendered by the old code
    is served by the new. The same in every worker of a deploy (file names and modification times)."""
    root = Path(settings.BASE_DIR)
    skip = {"node_modules", "var", "staticfiles", "media", "__pycache__", "tests", "bench"}
    digest = hashlib.blake2b(digest_size=8)
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("."))
        for name in sorted(files):
            if name.endswith((".py", ".html", ".mo", ".txt")):
                path = os.path.join(folder, name)
                digest.update(f"{path}:{os.stat(path).st_mtime_ns}".encode())
    return digest.hexdigest()
