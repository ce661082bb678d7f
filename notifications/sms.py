"""SMS: a small backend interface; the provider is chosen by the SMS_BACKEND setting.

A provider's backend subclasses BaseBackend and implements `send(phone, text)`, raising on failure
(the delivery retries). Development uses ConsoleBackend (the log) or FileBackend (one JSON line per
message in SMS_FILE_PATH).
"""

import json
import logging
import threading

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

ELLIPSIS = "…"


def fit(text, limit=None):
    """The message cut to the SMS limit (70 characters: one Chinese SMS), ending in … when cut."""
    limit = limit or settings.SMS_MAX_CHARS
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


class BaseBackend:
    def send(self, phone, text):
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    def send(self, phone, text):
        log.info("SMS to %s: %s", phone, text)


class FileBackend(BaseBackend):
    _lock = threading.Lock()

    def __init__(self, path=None):
        self.path = path or settings.SMS_FILE_PATH

    def send(self, phone, text):
        line = json.dumps({"to": phone, "text": text, "at": timezone.now().isoformat()}, ensure_ascii=False)
        with self._lock, open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


class LocmemBackend(BaseBackend):
    """Keeps messages in `outbox` (tests)."""

    outbox = []

    def send(self, phone, text):
        self.outbox.append({"to": phone, "text": text})


def get_backend():
    return import_string(settings.SMS_BACKEND)()
