"""QR codes of tracking links, as inline SVG (segno; no image files, no network)."""

import segno
from django.utils.safestring import mark_safe

from repairs.tracking import tracking_path


def tracking_url(request, ticket):
    path = tracking_path(ticket)
    return request.build_absolute_uri(path) if request is not None else path


def qr_svg(data, *, title, scale=3):
    """An inline <svg> of `data` as a QR code (medium error correction survives a smudged print)."""
    code = segno.make(data, error="m", micro=False)
    svg = code.svg_inline(scale=scale, title=title, svgclass="tracking-qr", lineclass=None, border=2)
    # role="img" makes screen readers announce the <title> segno writes as the image's name.
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))


def qr_svg_document(data, *, title, scale=4):
    """A standalone SVG file of `data` (for the QR image view)."""
    import io

    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="svg", scale=scale, title=title, border=2)
    return buffer.getvalue()
