from django.conf import settings

from portal.core.nav import nav_for


def portal(request):
    user = getattr(request, "user", None)
    return {
        "PORTAL_LANGUAGES": settings.LANGUAGES,
        "nav_items": nav_for(user) if user is not None else [],
    }
