"""The REST API under /api/v1/: one router that every app's viewsets join."""

from django.urls import include, path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter

router = DefaultRouter()
# Apps register here, e.g. router.register("terminals", TerminalViewSet, basename="terminal").

urlpatterns = [
    path("auth/token/", ObtainAuthToken.as_view(), name="api-token"),
    path("", include(router.urls)),
]
