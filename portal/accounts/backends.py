from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PortalBackend(ModelBackend):
    """Django's user-and-password backend, loading a signed-in user together with the merchant or
    branch that every page of theirs shows (one query per request instead of two)."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.select_related("merchant", "branch")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
