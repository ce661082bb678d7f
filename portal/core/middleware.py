import logging
import time

from django.conf import settings
from django.utils import translation

request_log = logging.getLogger("portal.request")


class UserLanguageMiddleware:
    """A signed-in user sees the portal in the language saved in their profile."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Swagger UI and the admin ship inline scripts of their own.
        if not request.path.startswith(("/api/docs", "/admin/")):
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


class RequestLogMiddleware:
    """One log line per request: method, path, status, duration, user id and role (the request id
    is added to every line by the logging filter). Placed first, so the time is the whole stack's."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        fields = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "user_id": user.pk if signed_in else None,
            "role": user.role if signed_in else "",
        }
        request_log.log(
            logging.WARNING if response.status_code >= 500 else logging.INFO,
            "%s %s %s %.1fms user=%s role=%s",
            request.method,
            request.path,
            response.status_code,
            duration_ms,
            fields["user_id"] or "-",
            fields["role"] or "-",
            extra=fields,
        )
        return response
