from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications import delivery, selectors, services
from notifications.forms import DeliveryLogFilterForm, PreferencesForm
from notifications.models import Notification, NotificationPreference
from portal.accounts.roles import reviewer_required
from portal.core.pagination import paginate, querystring_without_page

log_required = reviewer_required


def _previews(page):
    language = translation.get_language()
    return [(n, delivery.render_preview(n, language)) for n in page]


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
    form = PreferencesForm(request.POST or None, user=request.user, preference=preference)
    if request.method == "POST" and form.is_valid():
        services.save_preferences(
            request.user,
            channels=form.channels(),
            quiet_start=form.cleaned_data["quiet_start"],
            quiet_end=form.cleaned_data["quiet_end"],
        )
        messages.success(request, _("Your notification settings were saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})


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
