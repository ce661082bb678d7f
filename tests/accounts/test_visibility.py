import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.accounts.models import Merchant, MerchantDocument

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _upload(client, merchant, content=PDF, name="licence.pdf", kind="business_licence"):
    return client.post(
        reverse("accounts:document_upload", args=[merchant.pk]),
        {"kind": kind, "file": SimpleUploadedFile(name, content)},
    )


def test_it_limits_a_merchant_user_to_its_own_merchant(merchant_user, other_merchant_user):
    assert list(Merchant.objects.visible_to(merchant_user)) == [merchant_user.merchant]
    assert other_merchant_user.merchant not in Merchant.objects.visible_to(merchant_user)


def test_it_shows_staff_every_merchant(agent, merchant_user, other_merchant_user):
    assert Merchant.objects.visible_to(agent).count() == 2


def test_it_answers_404_for_another_merchants_page(merchant_client, other_merchant_user):
    url = reverse("accounts:merchant", args=[other_merchant_user.merchant.pk])
    assert merchant_client.get(url).status_code == 404


def test_it_keeps_the_merchant_list_to_staff(merchant_client):
    assert merchant_client.get(reverse("accounts:merchants")).status_code == 403


def test_it_uploads_a_document_checked_by_content(merchant_client, merchant):
    response = _upload(merchant_client, merchant)
    assert response.status_code == 302
    doc = MerchantDocument.objects.get(merchant=merchant)
    assert doc.content_type == "application/pdf"
    assert "licence.pdf" not in doc.file.name  # stored under a random name


def test_it_refuses_an_executable_renamed_pdf(merchant_client, merchant):
    response = _upload(merchant_client, merchant, content=b"MZ\x90\x00" + b"\x00" * 200, name="x.pdf")
    assert response.status_code == 302
    assert not MerchantDocument.objects.exists()
    body = merchant_client.get(reverse("home")).content.decode()
    assert "its content was checked" in body


def test_it_refuses_an_oversized_document(merchant_client, merchant, settings):
    settings.MAX_UPLOAD_BYTES = 100
    _upload(merchant_client, merchant, content=PDF + b"0" * 200)
    assert not MerchantDocument.objects.exists()


def test_it_serves_documents_only_to_their_merchant_and_staff(
    client, merchant_user, other_merchant_user, agent
):
    client.force_login(merchant_user)
    _upload(client, merchant_user.merchant)
    doc = MerchantDocument.objects.get()
    url = reverse("accounts:document", args=[doc.pk])
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(other_merchant_user)
    assert client.get(url).status_code == 404
    client.force_login(agent)
    assert client.get(url).status_code == 200


def test_it_answers_404_when_uploading_to_another_merchant(merchant_client, other_merchant_user):
    response = _upload(merchant_client, other_merchant_user.merchant)
    assert response.status_code == 404
    assert not MerchantDocument.objects.exists()
