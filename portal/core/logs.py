"""Logging helpers: the request id on every record ("-" outside a request or task)."""

import logging

from django_guid import get_guid


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = get_guid() or "-"
        return True
