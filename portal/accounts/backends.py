from django.contrib.auth.backends import ModelBackend


class PortalBackend(ModelBackend):
    """Django's user-and-password backend, loading a signed-in user together with the merchant or
    branch that every page of theirs shows (one query per request instead of two)."""

    def get_user(self, user_id):
        user_model = self._get_user_model()
        try:
            user = user_model._default_manager.select_related("merchant", "branch").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def _get_user_model():
        from django.contrib.auth import get_user_model

        return get_user_model()
