from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from insights import views as insight_views
from portal import metrics
from portal.accounts import views as account_views
from portal.accounts.forms import LoginForm
from portal.core import views as core_views
from repairs import urls as repairs_urls

admin.site.site_header = _("POS Lifecycle Portal administration")
admin.site.site_title = _("POS Lifecycle Portal")

urlpatterns = [
    path("", insight_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("accounts/", include("portal.accounts.urls")),
    path("i18n/setlang/", account_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("terminals/", include("terminals.urls")),
    path("tickets/", include("repairs.urls")),
    path("", include((repairs_urls.public_urlpatterns, "tracking"))),
    path("applications/", include("applications.urls")),
    path("", include("insights.urls")),
    path("notifications/", include("notifications.urls")),
    path("api/v1/", include("portal.api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.BENCH_FLOOR:
    # Only for bench/: the same middleware stack with no work, the floor for request rates.
    urlpatterns.append(path("bench/floor", core_views.bench_floor, name="bench-floor"))
    urlpatterns.append(path("bench/empty", core_views.bench_empty, name="bench-empty"))


# An unmatched /api/ URL answers the API's error body (JSON), like an unknown object.
handler404 = "portal.core.api.not_found"
