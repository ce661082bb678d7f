"""axe-core (the npm package) in every Chromium journey: no serious or critical violation on any page
a journey visits, at 375 px and 1280 px, in both languages.

`AuditedPage` wraps the journey's Playwright page. Whenever the test touches the page, the document
it shows is audited if it has not been seen yet. Two things make a page new:

- its *kind*: the path (numbers aside) and the signed-in role. A new kind is audited at 1280 px and
  375 px, then opened once more in a second tab in the other language (switched, and switched
  back, through the language form's own endpoint) and audited there at both widths;
- its *state*: the kind plus the set of its `data-testid`s, so that a ticket offering new steps is a
  new page while a second ticket in the same state is not. A new state of a known kind is audited
  at 1280 px in the journey's language (the layout at 375 px and the words of the other language
  are the kind's).

Each is audited once per test session, so the journeys stay fast.
"""

from urllib.parse import urlsplit

from django.conf import settings
from playwright.sync_api import Error as PlaywrightError

AXE_URL = f"/{settings.STATIC_URL.strip('/')}/tests/axe-core/axe.min.js"
WIDE, NARROW = 1280, 375
BLOCKING = ("serious", "critical")
LANGUAGES = ("zh-hans", "en")

# [kind, state, language] of the document, or null for anything but one of our HTML pages.
DESCRIBE = r"""() => {
  if (document.contentType !== "text/html" || !document.body) return null;
  const role = document.querySelector("[data-role]")?.dataset.role || "anonymous";
  const kind = location.pathname.replace(/\d+/g, "N") + " " + role;
  const ids = new Set([...document.querySelectorAll("[data-testid]")].map(el => el.dataset.testid.replace(/\d+/g, "N")));
  return [kind, kind + " " + [...ids].sort().join(","), document.documentElement.lang];
}"""

RUN = r"""async (blocking) => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => blocking.includes(v.impact)).map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " ").trim()),
  }));
}"""


class AxeViolations(AssertionError):
    pass


def violations(page):
    """The serious and critical violations axe finds on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # A same-origin script (portal/test_settings.py serves it): the Content-Security-Policy
        # forbids inline ones, and the browser keeps this one compiled from page to page.
        page.add_script_tag(url=AXE_URL)
    return page.evaluate(RUN, list(BLOCKING))


def describe(found, url, width, language):
    lines = [f"axe-core: {len(found)} serious/critical violation(s) on {url} at {width} px in {language}:"]
    for v in found:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']}")
        lines.extend(f"    {node}" for node in v["nodes"])
    return "\n".join(lines)


class Audit:
    """Audits each new page of a journey (see the module's docstring)."""

    seen = set()  # kinds and states already audited, shared by every test of the session

    def __init__(self, page):
        self.page = page
        self.tab = None  # the second tab, for the other language
        self.busy = False
        # Look at the page again only once something may have changed it: a document loaded, or
        # an htmx request answered (the handlers only set the flag: no page calls from an event).
        self.dirty = True
        page.on("load", self._touched)
        page.on("requestfinished", lambda request: request.resource_type in ("xhr", "fetch") and self._touched())

    def _touched(self, *args):
        self.dirty = True

    def __call__(self):
        if self.busy or not self.dirty:
            return
        self.dirty = False
        self.busy = True
        try:
            self._audit_current()
        finally:
            self.busy = False

    def _describe(self, page):
        for _attempt in range(3):
            try:
                page.wait_for_load_state("load")
                return page.evaluate(DESCRIBE)
            except PlaywrightError as exc:  # the document went away under us: a navigation
                if "destroyed" not in str(exc) and "navigat" not in str(exc):
                    raise
        return None

    def _audit_current(self):
        page = self.page
        if not page.url.startswith("http"):
            return
        found = self._describe(page)
        if not found:
            return
        kind, state, language = found
        language = language if language in LANGUAGES else LANGUAGES[0]
        new_kind, new_state = kind not in self.seen, state not in self.seen
        if not new_state:
            return
        self.seen.update((kind, state))
        self._check(page, (WIDE, NARROW) if new_kind else (WIDE,), language)
        if new_kind:
            self._in_other_language(page.url, next(code for code in LANGUAGES if code != language))

    @staticmethod
    def _check(page, widths, language):
        original = page.viewport_size
        try:
            for width in widths:
                page.set_viewport_size({"width": width, "height": original["height"] if original else 900})
                found = violations(page)
                if found:
                    raise AxeViolations(describe(found, page.url, width, language))
        finally:
            if original:
                page.set_viewport_size(original)

    def _in_other_language(self, url, other):
        context = self.page.context
        self._switch_language(context, url, other)
        try:
            if self.tab is None:
                self.tab = context.new_page()
            try:
                response = self.tab.goto(url)
            except PlaywrightError as exc:  # Chromium fails a navigation to an error without a body
                if "ERR_HTTP_RESPONSE_CODE_FAILURE" not in str(exc):
                    raise
                response = self.tab.request.get(url, max_redirects=0)
            if response is not None and response.status == 405:
                return  # a page reached by a form (a POST answered with errors) has no GET of its own
            assert response is not None and response.status < 400, f"{url} in {other}: {response and response.status}"
            self._check(self.tab, (WIDE, NARROW), other)
        finally:
            self._switch_language(context, url, next(code for code in LANGUAGES if code != other))

    @staticmethod
    def _switch_language(context, url, language):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        token = next((c["value"] for c in context.cookies(origin) if c["name"] == settings.CSRF_COOKIE_NAME), "")
        response = context.request.post(
            f"{origin}/i18n/setlang/", form={"language": language, "next": "/healthz"},
            headers={"X-CSRFToken": token, "Referer": url}, max_redirects=0,
        )
        assert response.status == 302, f"switching to {language} answered {response.status}"


class AuditedPage:
    """The journey's Playwright page; touching it audits the document it shows (see Audit)."""

    def __init__(self, page):
        object.__setattr__(self, "_page", page)
        object.__setattr__(self, "audit", Audit(page))

    def __getattr__(self, name):
        self.audit()
        return getattr(self._page, name)

    def __setattr__(self, name, value):
        setattr(self._page, name, value)
