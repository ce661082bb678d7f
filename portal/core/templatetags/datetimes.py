"""`<time datetime="{{ value|datetime_attr }}">`: a moment as HTML's datetime attribute accepts it.

Django's `date:"c"` keeps microseconds, which HTML does not allow (at most three digits of a second).
"""

from datetime import date, datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def datetime_attr(value):
    """ISO 8601 to the second, in the current time zone (a date stays a date)."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return ""
