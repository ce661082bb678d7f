import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


def _database_ok():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        connection.close()
        return False


def _broker_ok():
    if not settings.REDIS_URL:
        return None  # no broker configured: tasks run in-process, nothing to check
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1
        )
        return bool(client.ping())
    except Exception:  # noqa: BLE001
        return False


@never_cache
@require_GET
def healthz(request):
    """200 when the database (and the broker, when one is configured) answer; 503 otherwise."""
    db = _database_ok()
    broker = _broker_ok()
    ok = db and broker is not False
    body = {
        "status": "ok" if ok else "unavailable",
        "database": "ok" if db else "down",
        "broker": {None: "not configured", True: "ok", False: "down"}[broker],
    }
    return JsonResponse(body, status=200 if ok else 503)


def bench_floor(request):
    """The floor for benchmarks: a bare Django view through the full middleware stack, no queries."""
    from django.http import HttpResponse

    return HttpResponse(b"ok", content_type="text/plain")


@login_required
def bench_empty(request):
    """The second floor: a signed-in page with the layout only (navigation, badge, footer, language
    form) and nothing of its own, so the layout's fixed cost shows in every benchmark table."""
    return render(request, "core/bench_empty.html")


# --- the one way a page answers a refused workflow step ------------------------------------


def nothing_changed(message):
    return _("%(message)s Nothing was changed.") % {"message": message}


def bind_errors(form, exc):
    """Put a WorkflowError's field errors on the form's fields (the rest on the form itself)."""
    for field, errors in exc.field_errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.field_errors:
        form.add_error(None, exc.message)


def show_invalid(request, form, exc):
    """A step refused for its input, shown with the form again (the view answers 400): each
    field's errors on its field; errors about the object rather than a field (documents missing,
    no deregistration record) as messages at the top of the page; then what to do."""
    on_form = False
    for field, errors in exc.field_errors.items():
        for error in errors:
            if field in form.fields:
                form.add_error(field, error)
                on_form = True
            else:
                messages.error(request, nothing_changed(error))
    if on_form or not exc.field_errors:
        messages.error(request, nothing_changed(_("Please correct the fields marked below.")))


def refused(request, exc, redirect_to):
    """A refused step that no form can correct: not allowed now or stale → the object's page
    again with the reason and "Nothing was changed."; forbidden → 403 with the reason. (Field
    errors are shown by re-rendering the bound form with status 400: see bind_errors.)"""
    if exc.code == "forbidden":
        raise PermissionDenied(nothing_changed(exc.message))
    messages.error(request, nothing_changed(exc.message))
    for field_errors in exc.field_errors.values():
        for error in field_errors:
            if error != exc.message:
                messages.error(request, error)
    return redirect(redirect_to)
