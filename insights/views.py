from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.functional import SimpleLazyObject
from django.views.decorators.http import require_GET

from insights import dashboards, reports
from insights.forms import ReportRangeForm
from insights.search import global_search
from portal.accounts import selectors as account_selectors
from portal.accounts.forms import MerchantDocumentForm, MerchantSearchForm
from portal.accounts.roles import reviewer_required, staff_required
from portal.core.exports import csv_response
from repairs import selectors as repairs_selectors


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


@staff_required
@require_GET
def search(request):
    """Global search: one match opens the object itself; several give a short list."""
    results = global_search(request.user, request.GET.get("q", ""))
    url = results.single_url
    if url:
        return redirect(url)
    return render(request, "insights/search.html", {"results": results})




reports_required = reviewer_required


def _period(request):
    form = ReportRangeForm(request.GET or None)
    start, end = form.period()
    return form, reports.Period(start, end)


@reports_required
@require_GET
def report_index(request):
    """Every report of the period: a chart, its table and a CSV link each."""
    form, period = _period(request)
    query = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    # (summary, sections), built (or read from their cache) only when the page's rendered charts
    # and tables are not in the fragment cache: a cached page reads one entry, not both.
    report = SimpleLazyObject(lambda: reports.build_all(period))
    return render(
        request,
        "insights/reports.html",
        {"form": form, "period": period, "report": report, "query": urlencode(query),
         "cache_seconds": reports.cache_seconds(), "loaners": repairs_selectors.loaner_utilisation(request.user)},
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
