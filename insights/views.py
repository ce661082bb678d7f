from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from insights import dashboards, ratelimit, reports, services
from insights.exports import csv_response
from insights.forms import ReportRangeForm, SatisfactionForm, TrackForm
from insights.qr import qr_svg_document, tracking_url
from insights.search import global_search
from insights.tracking import find_public_ticket
from portal.accounts import selectors as account_selectors
from portal.accounts.forms import MerchantDocumentForm, MerchantSearchForm
from portal.core.roles import role_required, staff_required


@login_required
def home(request):
    """Each role's home page."""
    user = request.user
    if user.is_merchant:
        merchant = user.merchant
        return render(
            request,
            "insights/home_merchant.html",
            {
                "merchant": merchant,
                "dash": dashboards.merchant_dashboard(user),
                "users": account_selectors.merchant_users(merchant),
                "checklist": account_selectors.document_checklist(merchant),
                "document_form": MerchantDocumentForm(),
            },
        )
    form = MerchantSearchForm(request.GET or None)
    return render(
        request,
        "insights/home_staff.html",
        {"branches": account_selectors.branches_for(user), "search_form": form},
    )


@never_cache
@require_GET
def track(request):
    """Public tracking: no login; the same answer for an unknown number and a wrong tag."""
    form = TrackForm(request.GET or None)
    context = {"form": form, "looked_up": False, "ticket": None}
    if form.is_bound:
        verdict = ratelimit.hit(
            "track",
            request,
            limit=settings.TRACK_LIMIT,
            window=settings.TRACK_WINDOW_SECONDS,
        )
        if not verdict.allowed:
            minutes = max(1, round(verdict.retry_after / 60))
            context["limited_minutes"] = minutes
            response = render(request, "insights/track.html", context, status=429)
            response["Retry-After"] = str(verdict.retry_after)
            return response
        if form.is_valid():
            context["looked_up"] = True
            context["ticket"] = find_public_ticket(form.cleaned_data["no"], form.cleaned_data["tag"])
    response = render(request, "insights/track.html", context)
    # Tracking pages carry a tag number in the link: keep them out of shared caches and referrers.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_GET
def ticket_qr(request, service_order_no):
    """The QR code of a ticket's tracking link as an SVG file, for those who may see the ticket."""
    from repairs.models import FaultTicket

    ticket = get_object_or_404(
        FaultTicket.objects.visible_to(request.user).select_related("terminal"),
        service_order_no=service_order_no,
    )
    body = qr_svg_document(tracking_url(request, ticket), title=_("Track %(no)s") % {"no": ticket.service_order_no})
    response = HttpResponse(body, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@staff_required
@require_GET
def search(request):
    """Global search: one match opens the object itself; several give a short list."""
    results = global_search(request.user, request.GET.get("q", ""))
    url = results.single_url
    if url:
        return redirect(url)
    return render(request, "insights/search.html", {"results": results})




reports_required = role_required("reviewer", "admin")


def _period(request):
    form = ReportRangeForm(request.GET or None)
    start, end = form.period()
    return form, reports.Period(start, end)


@reports_required
@require_GET
def report_index(request):
    """Every report of the period: a chart, its table and a CSV link each."""
    form, period = _period(request)
    summary, sections = reports.build_all(period)
    query = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    return render(
        request,
        "insights/reports.html",
        {"form": form, "period": period, "summary": summary, "sections": sections, "query": urlencode(query),
         "cache_seconds": reports.cache_seconds()},
    )


@reports_required
@require_GET
def report_csv(request):
    """One report of the period as CSV (?report=<slug>&start=&end=)."""
    slug = request.GET.get("report", "")
    build = reports.REPORTS.get(slug)
    if build is None:
        raise Http404
    _form, period = _period(request)
    report = build(period)
    filename = f"{slug}_{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return csv_response(filename, [label for _key, label in report.columns], report.csv_rows())


@login_required
@require_POST
def rate(request, service_order_no):
    """The merchant's satisfaction rating of a finished repair (the ticket page's rating panel)."""
    from repairs.models import FaultTicket

    ticket = get_object_or_404(
        FaultTicket.objects.visible_to(request.user).select_related("terminal"), service_order_no=service_order_no
    )
    form = SatisfactionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.rate_ticket(
                ticket=ticket, actor=request.user, rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except services.RatingError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied(exc.message) from exc
            error = exc.message
    else:
        error = _("Choose a rating from 1 to 5.")
    if request.htmx:
        # The panel swaps itself: the rating given, or the form again with the reason. htmx swaps
        # only 2xx answers, so the refusal travels in the content, not the status.
        return render(request, "insights/_satisfaction_htmx.html", {"ticket": ticket, "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Thank you for rating the repair."))
    return redirect(ticket.get_absolute_url())
