from django.conf import settings

from portal.core.nav import nav_for


def portal(request):
    user = getattr(request, "user", None)
    items = nav_for(user) if user is not None else []
    return {
        "PORTAL_LANGUAGES": settings.LANGUAGES,
        "nav_items": items,
        "nav_more": [item for item in items if item["more"]],
    }
