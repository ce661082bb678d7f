"""Every action a page offers has an API twin (DESIGN.md: "everything a user can do on a page, a
bank system can do over the API").

The resolver is walked (tests/security/urlwalk.py): a page URL "accepts POST" when its view is
restricted to POST (require_POST), or reads the POST body, or is a class-based view with a `post`
handler. Each must be in TWINS, naming the API operation (URL name and method) that calls the
same service, or in EXEMPT with the reason it has none. A new page action without either fails.
"""

import inspect

import pytest

from tests.security.urlwalk import routes

# page URL name → (API URL name, HTTP method)
TWINS = {
    "tickets:report": ("ticket-list", "post"),
    "tickets:log_call": ("ticket-log-call", "post"),
    "tickets:open_from_monitoring": ("likely-faulty-ticket", "post"),
    "tickets:transition": ("ticket-transition", "post"),
    "tickets:comment": ("ticket-comments", "post"),
    "tickets:attach": ("ticket-attachments", "post"),
    "tickets:reissue_code": ("ticket-pickup-code", "post"),
    "tickets:rate": ("ticket-rating", "post"),
    "tickets:dropoff_book": ("ticket-dropoff", "post"),
    "tickets:dropoff_cancel": ("ticket-dropoff", "delete"),
    "tickets:loaner_lend": ("ticket-loaner", "post"),
    "tickets:loaner_return": ("ticket-loaner-return", "post"),
    "tickets:loaner_inspect": ("loaner-inspection", "post"),
    "terminals:import": ("terminal-imports", "post"),
    "terminals:log_maintenance": ("terminal-maintenance", "post"),
    "terminals:issue": ("terminal-issue", "post"),
    "terminals:activate": ("terminal-activate", "post"),
    "terminals:restock": ("terminal-restock", "post"),
    "terminals:deregister": ("terminal-deregistration", "post"),
    "applications:apply": ("application-list", "post"),
    "applications:transition": ("application-transition", "post"),
    "applications:document_upload": ("application-documents", "post"),
    "applications:document_verdict": ("application-document-verdict", "post"),
    "applications:inspection": ("application-inspection", "post"),
    "applications:deregistration": ("application-deregistration", "post"),
    "applications:volume": ("application-volumes", "post"),
    "applications:refund": ("application-refund", "post"),
    "notifications:read": ("notification-read", "post"),
    "notifications:open": ("notification-read", "post"),
    "notifications:read_all": ("notification-read-all", "post"),
    "notifications:preferences": ("notification-preferences", "put"),
    "notifications:log_retry": ("notification-retry", "post"),
    "notifications:wechat_unbind": ("notification-wechat-unbind", "post"),
    "accounts:profile": ("profile", "put"),
    "accounts:document_upload": ("merchant-documents", "post"),
}

# page URL name → why it has no API operation
EXEMPT = {
    "login": "signing in to the browser session; API clients take a token at /api/v1/auth/token/",
    "logout": "ends the browser session; a token needs no sign-out",
    "set_language": "the browser's UI language cookie; an API client sets its language with PUT /api/v1/profile/",
    "password_change": "a person changes their own password in the browser, never a bank system",
    "password_reset": "the e-mailed password-reset steps are for people in a browser",
    "password_reset_confirm": "the e-mailed password-reset steps are for people in a browser",
}


def _allowed_methods(callback):
    """The methods require_http_methods lets through (None when unrestricted)."""
    f = callback
    while f is not None:
        for cell in getattr(f, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if isinstance(value, list) and value and all(isinstance(m, str) and m.isupper() for m in value):
                return set(value)
        f = getattr(f, "__wrapped__", None)
    return None


def accepts_post(route):
    view_class = getattr(route.callback, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "post")
    methods = _allowed_methods(route.callback)
    if methods is not None:
        return "POST" in methods
    source = inspect.getsource(inspect.unwrap(route.callback))
    return "request.POST" in source or 'request.method == "POST"' in source


def api_methods(route):
    """The methods an API route answers: a viewset's action map, or an APIView's handlers."""
    actions = getattr(route.callback, "actions", None)
    if actions:
        return set(actions)
    view_class = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)
    return {m for m in ("get", "post", "put", "patch", "delete") if view_class and hasattr(view_class, m)}


def _pages():
    return {r.name: r for r in routes() if not r.is_api and not r.is_admin and r.name}


def _api():
    operations = {}
    for r in routes():
        if r.is_api and r.name:
            operations.setdefault(r.name, set()).update(api_methods(r))
    return operations


def test_every_page_action_has_an_api_twin_or_a_reason():
    posting = sorted(name for name, route in _pages().items() if accepts_post(route))
    missing = [name for name in posting if name not in TWINS and name not in EXEMPT]
    assert not missing, f"page actions without an API twin (add one, or a reasoned EXEMPT entry): {missing}"


def test_the_detection_sees_the_pages_actions():
    # A walk that found nothing would pass the test above: pin a few it must find.
    posting = {name for name, route in _pages().items() if accepts_post(route)}
    assert {"tickets:comment", "notifications:preferences", "login", "applications:refund"} <= posting
    assert "tickets:detail" not in posting and "tracking:track" not in posting


@pytest.mark.parametrize(("page", "twin"), sorted(TWINS.items()))
def test_each_twin_exists_and_answers_its_method(page, twin):
    name, method = twin
    pages, operations = _pages(), _api()
    assert page in pages, f"{page} is no longer a page: drop it from TWINS"
    assert accepts_post(pages[page]), f"{page} takes no POST any more: drop it from TWINS"
    assert name in operations, f"no API operation named {name}"
    assert method in operations[name], f"{name} does not answer {method.upper()}"


def test_the_exemptions_are_still_page_actions():
    pages = _pages()
    stale = [name for name in EXEMPT if name not in pages or not accepts_post(pages[name])]
    assert not stale and not set(EXEMPT) & set(TWINS)
