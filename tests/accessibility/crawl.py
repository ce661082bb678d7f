"""Every page a user reaches by following links, as the Django test client sees it.

The crawl starts from the pages given (the home page, the sign-in page, …) and follows every
same-site link (`<a href>`) and every htmx request a page makes by itself (`hx-get`), never
submitting a form, so it changes nothing but what a visitor's GET changes (a notification opened).
"""

from collections import Counter, deque
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

from django.urls import Resolver404, resolve

# The admin is Django's own; the API answers JSON; static files are not pages.
SKIP_PREFIXES = ("/admin/", "/api/", "/static/")


@dataclass
class Page:
    path: str
    view: str  # the URL name, e.g. "tickets:detail"
    html: str
    fragment: bool  # an htmx partial, not a whole document


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.fragments = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if attrs.get("hx-get"):
            self.fragments.append(attrs["hx-get"])


def _local(href, base):
    url, _fragment = urldefrag(urljoin(base, href))
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return None
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return None if path.startswith(SKIP_PREFIXES) else path


def view_name(path):
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return None


def crawl(client, start=("/",), *, per_view=4, dead_ends=None):
    """Every HTML page reachable from `start`, at most `per_view` pages of one URL name (a list of
    fifty tickets gives fifty ticket pages that differ only in their data). A link that answers
    with an error is added to `dead_ends` as (page, link, status)."""
    seen, pages, per = set(), [], Counter()
    dead_ends = [] if dead_ends is None else dead_ends
    came_from = {path: "(start)" for path in start}
    queue = deque((path, False) for path in start)
    while queue:
        path, fragment = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        view = view_name(path)
        if view is None or per[view] >= per_view:
            continue
        headers = {"HX-Request": "true"} if fragment else {}
        response = client.get(path, follow=True, headers=headers)
        if response.status_code >= 400:
            dead_ends.append((came_from.get(path), path, response.status_code))
        if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        per[view] += 1
        html = response.content.decode()
        final = response.request["PATH_INFO"]
        pages.append(Page(path, view_name(final) or view, html, fragment))
        parser = _Links()
        parser.feed(html)
        base = "http://testserver" + final
        for hrefs, is_fragment in ((parser.links, False), (parser.fragments, True)):
            for link in filter(None, (_local(h, base) for h in hrefs)):
                came_from.setdefault(link, path)
                queue.append((link, is_fragment))
    return pages
