"""Who may open a page at all (what they may do there is the workflow's call)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from portal.accounts.models import REVIEWER_ROLES, STAFF_ROLES


def role_required(*roles):
    """The page opens for a signed-in user of one of `roles` (administrators count as "admin")."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not (user.is_superuser or user.role in roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


staff_required = role_required(*STAFF_ROLES)
# Reviewers and administrators: applications, the terminal inventory, reports, the delivery log.
reviewer_required = role_required(*REVIEWER_ROLES)
