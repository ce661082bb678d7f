from django.conf import settings

from portal.core.nav import nav_for
from portal.core.workflow import role_of


def portal(request):
    user = getattr(request, "user", None)
    items, more = nav_for(user) if user is not None else ((), ())
    return {
        "PORTAL_LANGUAGES": settings.LANGUAGES,
        "nav_role": role_of(user) if user is not None else "",  # the layout is rendered once per role
        "nav_items": items,
        "nav_more": more,
    }
