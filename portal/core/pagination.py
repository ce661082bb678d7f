from django.core.paginator import Paginator
from rest_framework.pagination import CursorPagination

PER_PAGE = 25


def paginate(request, queryset, per_page=PER_PAGE):
    """One page of `queryset` for ?page=N (a bad or too-large N gives the nearest real page)."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def querystring_without_page(request):
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


class KeysetPagination(CursorPagination):
    """API lists that stay as fast on page 8,000 as on page 1: the next page starts after the last
    row seen (an opaque `cursor`), where OFFSET would read and drop every row before it, and there
    is no COUNT(*) of a table of hundreds of thousands of rows on every request. Answers carry
    `next` and `previous` links and the `results`; newest first."""

    page_size = PER_PAGE
    ordering = ("-created_at", "-pk")
