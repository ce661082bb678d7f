from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = _("Accounts and organisations")

    def ready(self):
        from portal.accounts import backends, selectors
        from portal.accounts.models import STAFF_ROLES, Role
        from portal.core import nav

        backends.connect()  # a saved user, merchant or branch is forgotten by the user cache
        selectors.connect()  # and a merchant's users and documents by their cached lists

        nav.register("accounts:merchants", _("Merchants"), "shop", STAFF_ROLES, position=10)
        nav.register("accounts:branches", _("Branches"), "building", Role.values, position=15, more=True)
