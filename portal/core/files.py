"""Checks for uploaded files: the type is read from the content, never trusted from the name."""

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

DOCUMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png"}


def check_upload(uploaded, *, allowed=DOCUMENT_TYPES, max_bytes=None):
    """Return the real content type of an upload, or raise ValidationError saying what is wrong."""
    max_bytes = max_bytes or settings.MAX_UPLOAD_BYTES
    if uploaded is None:
        raise ValidationError(_("Choose a file to upload."))
    if uploaded.size == 0:
        raise ValidationError(_("The file is empty."))
    if uploaded.size > max_bytes:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(uploaded.size), "limit": filesizeformat(max_bytes)}
        )
    head = uploaded.read(2048)
    uploaded.seek(0)
    kind = filetype.guess(head)
    if kind is None or kind.mime not in allowed:
        names = ", ".join(sorted({ext.upper() for ext in allowed.values()}))
        raise ValidationError(
            _("This file is not a %(types)s file (its content was checked, not its name).")
            % {"types": names}
        )
    return kind.mime
