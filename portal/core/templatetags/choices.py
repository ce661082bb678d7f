"""`{{ obj|label:"field" }}`: the display label of a choice field, from a table built once.

Django's get_FOO_display() rebuilds a dict of the field's choices (hashing every lazy label) on
each call: ~0.3 ms a call, which adds up on pages that show many statuses.
"""

from functools import lru_cache

from django import template

register = template.Library()


@lru_cache(maxsize=256)
def labels(model, field):
    return dict(model._meta.get_field(field).flatchoices)


@register.filter
def label(obj, field):
    value = getattr(obj, field)
    return labels(obj._meta.model, field).get(value, value)
