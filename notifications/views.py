import secrets

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from notifications import delivery, selectors, services, wechat
from notifications.forms import DeliveryLogFilterForm, PreferencesForm
from notifications.models import Notification, NotificationPreference
from notifications.providers import PermanentError
from portal.accounts.roles import reviewer_required
from portal.core.pagination import paginate, querystring_without_page

log_required = reviewer_required


def _previews(page):
    language = translation.get_language()
    return list(zip(page, delivery.render_previews(page, language), strict=True))


def _safe_next(request, fallback):
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@login_required
def inbox(request):
    page = paginate(request, selectors.inbox(request.user))
    return render(
        request,
        "notifications/inbox.html",
        {
            "page": page,
            "items": _previews(page),
            "qs": querystring_without_page(request),
            "unread": selectors.unread_count(request.user),
        },
    )


@login_required
def badge(request):
    """The unread count for the navigation (htmx refreshes it)."""
    return render(request, "notifications/_badge.html", {"unread": selectors.unread_count(request.user)})


@login_required
@require_POST
def open_notification(request, pk):
    """Mark read and go to the object it is about."""
    n = get_object_or_404(Notification.objects.inbox(request.user), pk=pk)
    services.mark_read(request.user, n.pk)
    target = n.url if url_has_allowed_host_and_scheme(n.url, allowed_hosts={request.get_host()}) else ""
    return redirect(target or "notifications:inbox")


@login_required
@require_POST
def mark_read(request, pk):
    n = get_object_or_404(Notification.objects.inbox(request.user), pk=pk)
    services.mark_read(request.user, n.pk)
    return redirect(_safe_next(request, "notifications:inbox"))


@login_required
@require_POST
def mark_all_read(request):
    count = services.mark_all_read(request.user)
    messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
    return redirect(_safe_next(request, "notifications:inbox"))


@login_required
def preferences(request):
    preference = NotificationPreference.objects.filter(user=request.user).first()
    binding = services.wechat_binding(request.user) if wechat.is_configured() else None
    form = PreferencesForm(
        request.POST or None,
        user=request.user,
        preference=preference,
        wechat_bound=binding is not None and binding.is_active,
    )
    if request.method == "POST" and form.is_valid():
        services.save_preferences(
            request.user,
            channels=form.channels(),
            quiet_start=form.cleaned_data["quiet_start"],
            quiet_end=form.cleaned_data["quiet_end"],
        )
        messages.success(request, _("Your notification settings were saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form, "wechat_binding": binding})


@log_required
def delivery_log(request):
    form = DeliveryLogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.delivery_log(
        request.user, **{k: filters.get(k) or "" for k in ("status", "channel", "kind", "recipient")}
    )
    page = paginate(request, qs)
    return render(
        request,
        "notifications/log.html",
        {
            "form": form,
            "page": page,
            "qs": querystring_without_page(request),
        },
    )


@log_required
def delivery_detail(request, pk):
    n = get_object_or_404(
        Notification.objects.delivery_log_for(request.user).select_related("recipient", "subscriber"), pk=pk
    )
    preview = None
    if n.recipient_id:
        preview = delivery.render_preview(n, delivery.language_of(n.recipient))
    return render(request, "notifications/log_detail.html", {"n": n, "preview": preview})


@log_required
@require_POST
def delivery_retry(request, pk):
    n = get_object_or_404(Notification.objects.delivery_log_for(request.user), pk=pk)
    if services.retry(n):
        messages.success(request, _("The delivery was queued again."))
    else:
        messages.error(request, _("Only a failed delivery can be retried."))
    return redirect("notifications:log_detail", pk=n.pk)


# --- WeChat binding ------------------------------------------------------------------------

BIND_STATE_KEY = "wechat-bind:{}"


def _callback_url():
    # The address WeChat sends the phone back to: the portal's public one (the domain registered
    # in the Official Account's console as 网页授权域名), not whatever host served this page.
    return delivery.absolute_url(reverse("notifications:wechat_callback"))


def _bind_qr(user):
    """A fresh one-time state for `user` and the QR code of the authorize URL carrying it."""
    state = secrets.token_hex(16)  # WeChat allows [A-Za-z0-9]{,128}
    cache.set(BIND_STATE_KEY.format(state), user.pk, timeout=settings.WECHAT_BIND_SECONDS)
    url = wechat.authorize_url(_callback_url(), state)
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=4, title=_("QR code to bind WeChat"), lineclass=None, border=2)
    return url, mark_safe(svg.replace("<svg ", '<svg role="img" data-testid="wechat-qr" ', 1))


@login_required
@never_cache
def wechat_binding(request):
    """The user's WeChat binding: a QR code to scan with WeChat, or the bound account to unbind."""
    binding = services.wechat_binding(request.user) if wechat.is_configured() else None
    context = {
        "configured": wechat.is_configured(),
        "binding": binding,
        "bind_minutes": max(settings.WECHAT_BIND_SECONDS // 60, 1),
    }
    if wechat.is_configured() and (binding is None or not binding.is_active):
        context["authorize_url"], context["qr"] = _bind_qr(request.user)
    return render(request, "notifications/wechat.html", context)


@login_required
@require_GET
@never_cache
def wechat_binding_status(request):
    """Polled by the binding page while it shows a QR code: reload it once the phone has bound."""
    binding = services.wechat_binding(request.user)
    response = HttpResponse(status=204)
    if binding is not None and binding.is_active:
        response["HX-Refresh"] = "true"
    return response


@require_GET
@never_cache
def wechat_callback(request):
    """Where WeChat sends the phone that scanned the QR code (not signed in to the portal): the
    one-time state names the user who showed the code; the code gives the openid of the WeChat
    account that scanned it. A GET by the OAuth protocol; the state is its CSRF protection."""
    if not wechat.is_configured():
        raise Http404
    state = request.GET.get("state", "")
    code = request.GET.get("code", "")
    key = BIND_STATE_KEY.format(state)
    user_id = cache.get(key) if state.isalnum() else None
    if user_id is None or not cache.delete(key):
        return _callback_page(request, None, "expired", status=400)
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return _callback_page(request, None, "expired", status=400)
    if not code:
        return _callback_page(request, user, "refused", status=400)
    try:
        openid = wechat.openid_for_code(code, _callback_url())
    except PermanentError as exc:
        return _callback_page(request, user, "refused", status=400, detail=exc)
    except Exception as exc:  # noqa: BLE001 - WeChat unreachable or busy: nothing was bound
        return _callback_page(request, user, "unreachable", status=503, detail=exc)
    services.bind_wechat(user, openid)
    return _callback_page(request, user, None)


def _callback_page(request, user, error, status=200, detail=""):
    # The phone shows the page in the bound user's language (it is not signed in).
    language = user.language if user is not None and user.language else translation.get_language()
    with translation.override(language):
        return render(
            request,
            "notifications/wechat_callback.html",
            {"bound_user": user, "error": error, "detail": str(detail)},
            status=status,
        )


@login_required
@require_POST
def wechat_unbind(request):
    if services.unbind_wechat(request.user):
        messages.success(request, _("WeChat is unbound: you will no longer receive notifications on WeChat."))
    return redirect("notifications:wechat")
