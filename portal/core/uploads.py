"""Uploaded files: checked by their content (never trusted by their name) and stored under a name
of our own (one upload-path helper for every model that keeps files)."""

import uuid

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

DOCUMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png"}


def check_size(uploaded, max_bytes):
    """Raise ValidationError when there is no file, it is empty, or larger than `max_bytes`."""
    if uploaded is None:
        raise ValidationError(_("Choose a file to upload."))
    if uploaded.size == 0:
        raise ValidationError(_("The file is empty."))
    if uploaded.size > max_bytes:
        raise ValidationError(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": filesizeformat(uploaded.size), "limit": filesizeformat(max_bytes)}
        )


def check_upload(uploaded, *, allowed=DOCUMENT_TYPES, max_bytes=None):
    """Return the real content type of an upload, or raise ValidationError saying what is wrong."""
    check_size(uploaded, max_bytes or settings.MAX_UPLOAD_BYTES)
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


# The extension a stored file gets, by its real content type; never the uploader's name.
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "text/csv": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}


def extension_for(content_type):
    """The extension of a checked content type ("bin" for one we do not know)."""
    return EXTENSIONS.get(content_type, "bin")


def file_response(field_file, *, content_type, stem):
    """Offer a stored upload inline as `<stem>.<extension of its checked type>` with that type, to be
    kept by no shared cache (the caller has applied the visibility rule). The name offered follows
    the content type, never the stored or the uploader's name, so a file stored under an older,
    wrong extension is offered right too. A file missing from storage is a 404."""
    try:
        handle = field_file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{stem}.{extension_for(content_type)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@deconstructible
class UploadTo:
    """Where an upload is stored: `folder`/<owner id>/<random name>.<extension of its content>.

    The stored name never reuses the uploader's file name (no path tricks, no collisions) and the
    extension comes from the content type the upload was checked to be (`content_type`, or an
    import's `format`), so a JPEG named poly.html is stored, and served, as .jpg.
    """

    def __init__(self, folder, owner=None):
        self.folder = folder
        self.owner = owner

    def __call__(self, instance, filename):
        ext = EXTENSIONS.get(getattr(instance, "content_type", ""), "") or getattr(instance, "format", "") or "bin"
        if self.owner:
            return f"{self.folder}/{getattr(instance, self.owner)}/{uuid.uuid4().hex}.{ext}"
        return f"{self.folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"

    def __eq__(self, other):
        return isinstance(other, UploadTo) and (self.folder, self.owner) == (other.folder, other.owner)
