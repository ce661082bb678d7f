"""Signing in and the signed-in user of every request.

Every page of a signed-in person (and every API call with a token) needs their user row with its
merchant or branch. It is kept in the shared cache (Redis in production) for a few minutes, so a
request reads it with the session (or its token) instead of querying for it. Any save or delete
of a user, merchant or branch forgets the users it touches at once (the receivers are connected in
`AccountsConfig.ready`), so a deactivated account, a changed role or a new password counts from
the next request. Writes that bypass the model (a queryset `update()`, raw SQL) are seen when the
entry expires: use `save()` for accounts.
"""

import hashlib
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from portal.core.cache import forget, get_with, keep, shape_of

USER_CACHE_SECONDS = 300

# Cache keys that every page of a signed-in user reads (the unread badge, registered by its area):
# fetched with the user in one round trip (portal.core.cache.get_with).
_READ_WITH_USER = []


def read_with_user(key_for):
    """Register `key_for(user_id)`, a cache key read on every page of a signed-in user, to be
    fetched together with the user."""
    if key_for not in _READ_WITH_USER:
        _READ_WITH_USER.append(key_for)


@lru_cache(maxsize=1)
def _shape():
    """The user's columns and those of the rows it comes with (merchant, branch)."""
    user = get_user_model()
    return shape_of(user, *(f.related_model for f in user._meta.concrete_fields if f.is_relation))


def user_cache_key(user_id):
    return f"accounts:user:{_shape()}:{user_id}"


def forget_users(user_ids):
    """Drop the cached users (now and at commit: see portal.core.cache.forget)."""
    forget([user_cache_key(pk) for pk in set(user_ids) if pk is not None])


class PortalBackend(ModelBackend):
    """Django's user-and-password backend, loading a signed-in user together with the merchant or
    branch that every page of theirs shows: from the cache, else in one query."""

    def get_user(self, user_id):
        key = user_cache_key(user_id)
        user = get_with(key, [key_for(user_id) for key_for in _READ_WITH_USER])
        if user is None:
            users = get_user_model()._default_manager.select_related("merchant", "branch")
            user = users.filter(pk=user_id).first()
            if user is None:
                return None
            keep({key: user}, USER_CACHE_SECONDS)
        return user if self.user_can_authenticate(user) else None


def _token_cache_key(key):
    """The cache knows a token by its digest, never by the secret itself."""
    return f"accounts:token:{hashlib.sha256(key.encode()).hexdigest()}"


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication through the user cache: a known token gives its user id and the
    user comes from the cache; an unknown one is read with its user in one query, as DRF does, and
    both are kept. A deleted token is forgotten at once (see connect). `request.auth` is the token
    with its key and user only: nothing in the portal reads more of it."""

    def authenticate_credentials(self, key):
        from rest_framework.authtoken.models import Token

        cache_key = _token_cache_key(key)
        user_id = cache.get(cache_key)
        if user_id is not None:
            user = PortalBackend().get_user(user_id)
        else:  # the token and its user in one query, both kept for the next call
            token = Token.objects.select_related("user__merchant", "user__branch").filter(key=key).first()
            if token is None:
                raise exceptions.AuthenticationFailed(_("Invalid token."))
            user = token.user
            keep({cache_key: user.pk, user_cache_key(user.pk): user}, USER_CACHE_SECONDS)
            if not PortalBackend().user_can_authenticate(user):
                user = None
        if user is None:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)


def _token_deleted(sender, instance, **kwargs):
    forget([_token_cache_key(instance.key)])


def _user_changed(sender, instance, **kwargs):
    forget_users([instance.pk])


def _organisation_changed(sender, instance, **kwargs):
    """A merchant's or a branch's users show it on every page: forget them with it."""
    users = get_user_model()._default_manager.filter(**{sender._meta.model_name: instance.pk})
    forget_users(users.values_list("pk", flat=True))


def connect():
    from django.db.models.signals import post_delete, post_save
    from rest_framework.authtoken.models import Token

    from portal.accounts.models import Branch, Merchant

    for name, signal in (("saved", post_save), ("deleted", post_delete)):
        signal.connect(_user_changed, sender=get_user_model(), dispatch_uid=f"forget-user-{name}")
        for model in (Merchant, Branch):
            signal.connect(_organisation_changed, sender=model, dispatch_uid=f"forget-{model._meta.model_name}-{name}")
    post_delete.connect(_token_deleted, sender=Token, dispatch_uid="forget-token-deleted")
