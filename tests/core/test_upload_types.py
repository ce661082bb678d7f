"""Every kind of upload is stored, and offered for download, with the extension of the type its
content was checked to be (portal.core.uploads.check_upload), whatever the uploader named it."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from applications.models import ApplicationDocument
from portal.accounts.models import MerchantDocument
from repairs.models import TicketAttachment
from repairs.workflow import create_ticket
from tests.applications import factories as app_factories
from tests.factories import ActiveTerminalFactory

pytestmark = pytest.mark.django_db


def image(fmt):
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, fmt)
    return buf.getvalue()


# (the name the uploader gave, the claimed Content-Type, the content) → the type and extension kept
CASES = [
    pytest.param("scan.pdf.exe", "application/pdf", "PNG", "image/png", "png", id="png-named-pdf-exe"),
    pytest.param("photo.jpg", "image/jpeg", "PNG", "image/png", "png", id="png-named-jpg"),
    pytest.param("poly.html", "text/html", "JPEG", "image/jpeg", "jpg", id="jpeg-named-html"),
    pytest.param("noextension", "application/octet-stream", "PNG", "image/png", "png", id="png-without-name"),
]


def _upload(name, claimed, fmt):
    return SimpleUploadedFile(name, image(fmt), content_type=claimed)


def _assert_stored_and_offered(client, obj, url, mime, ext, content):
    assert obj.content_type == mime
    assert obj.file.name.endswith(f".{ext}") and obj.file.name.count(".") == 1
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == mime
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline") and disposition.endswith(f'.{ext}"'), disposition
    assert b"".join(response.streaming_content) == content


@pytest.mark.parametrize(("name", "claimed", "fmt", "mime", "ext"), CASES)
def test_a_ticket_attachment_keeps_the_extension_of_its_content(merchant_client, merchant, name, claimed, fmt, mime,
                                                                ext):
    ticket = create_ticket(terminal=ActiveTerminalFactory(merchant=merchant), actor=merchant.users.first(),
                           fault_type="printer", symptoms="打印机不出纸")
    response = merchant_client.post(reverse("tickets:attach", args=[ticket.service_order_no]),
                                    {"file": _upload(name, claimed, fmt)})
    assert response.status_code == 302
    item = TicketAttachment.objects.get()
    assert item.original_name == name  # shown as the uploader named it, never used as a path
    _assert_stored_and_offered(merchant_client, item, reverse("tickets:attachment", args=[item.pk]), mime, ext,
                               image(fmt))


@pytest.mark.parametrize(("name", "claimed", "fmt", "mime", "ext"), CASES)
def test_an_application_document_keeps_the_extension_of_its_content(merchant_client, merchant_user, channel, name,
                                                                    claimed, fmt, mime, ext):
    app = app_factories.application(merchant_user, channel)
    response = merchant_client.post(
        reverse("applications:document_upload", args=[app.number]),
        {"kind": "business_licence", "file": _upload(name, claimed, fmt)},
    )
    assert response.status_code == 302
    doc = ApplicationDocument.objects.get()
    _assert_stored_and_offered(merchant_client, doc, reverse("applications:document", args=[doc.pk]), mime, ext,
                               image(fmt))
    assert response.wsgi_request.user == merchant_user


def test_an_application_document_uploaded_over_the_api_keeps_the_extension_of_its_content(
    merchant_client, merchant_user, channel
):
    app = app_factories.application(merchant_user, channel)
    api = APIClient()
    api.force_authenticate(merchant_user)
    response = api.post(f"/api/v1/applications/{app.number}/documents/",
                        {"kind": "business_licence", "file": _upload("scan.pdf.exe", "application/pdf", "PNG")},
                        format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "image/png"
    doc = ApplicationDocument.objects.get()
    _assert_stored_and_offered(merchant_client, doc, reverse("applications:document", args=[doc.pk]), "image/png",
                               "png", image("PNG"))


@pytest.mark.parametrize(("name", "claimed", "fmt", "mime", "ext"), CASES)
def test_a_merchant_document_keeps_the_extension_of_its_content(merchant_client, merchant, name, claimed, fmt, mime,
                                                               ext):
    response = merchant_client.post(
        reverse("accounts:document_upload", args=[merchant.pk]),
        {"kind": "business_licence", "file": _upload(name, claimed, fmt)},
    )
    assert response.status_code == 302
    doc = MerchantDocument.objects.get()
    _assert_stored_and_offered(merchant_client, doc, reverse("accounts:document", args=[doc.pk]), mime, ext,
                               image(fmt))


def test_files_stored_under_an_older_wrong_extension_are_offered_by_their_type(
    merchant_client, merchant_user, merchant, channel
):
    """Before the stored name followed the content, a JPEG named poly.html was kept as <uuid>.html:
    such files are offered by their checked type, not by the name they were stored under."""
    from django.core.files.storage import default_storage

    jpeg = image("JPEG")
    ticket = create_ticket(terminal=ActiveTerminalFactory(merchant=merchant), actor=merchant_user,
                           fault_type="printer", symptoms="打印机不出纸")
    app = app_factories.application(merchant_user, channel)
    common = {"content_type": "image/jpeg", "original_name": "poly.html", "size": len(jpeg),
              "uploaded_by": merchant_user}
    objects = [
        (TicketAttachment(ticket=ticket, **common), "tickets:attachment"),
        (ApplicationDocument(application=app, kind="business_licence", **common), "applications:document"),
        (MerchantDocument(merchant=merchant, kind="business_licence", **common), "accounts:document"),
    ]
    for obj, url_name in objects:
        obj.file.name = default_storage.save("legacy/poly.html", SimpleUploadedFile("poly.html", jpeg))
        obj.save()
        response = merchant_client.get(reverse(url_name, args=[obj.pk]))
        assert response.status_code == 200, url_name
        assert response["Content-Type"] == "image/jpeg"
        assert response["Content-Disposition"].endswith('.jpg"'), (url_name, response["Content-Disposition"])
        assert b"".join(response.streaming_content) == jpeg
