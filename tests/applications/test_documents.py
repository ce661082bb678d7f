"""Documents: checked by content, private, served only through the visibility-checked view, logged."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications.models import ApplicationDocument, DocumentAccessLog
from tests.applications import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(make_app):
    return make_app("draft")


def _upload(client, app, content, name="licence.pdf", kind="business_licence"):
    return client.post(
        reverse("applications:document_upload", args=[app.number]),
        {"kind": kind, "file": SimpleUploadedFile(name, content, content_type="application/pdf")},
    )


def test_it_stores_a_pdf_under_a_generated_name(merchant_client, app):
    response = _upload(merchant_client, app, f.PDF, name="../../etc/营业执照.pdf")
    assert response.status_code == 302
    doc = ApplicationDocument.objects.get()
    assert doc.content_type == "application/pdf" and doc.verdict == "pending"
    assert doc.file.name.startswith(f"application-docs/{app.pk}/") and ".." not in doc.file.name


def test_it_refuses_an_executable_renamed_pdf(merchant_client, app):
    response = _upload(merchant_client, app, f.EXE, name="licence.pdf")
    assert response.status_code == 302
    assert not ApplicationDocument.objects.exists()
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("content was checked" in m for m in messages)


def test_it_refuses_a_file_over_the_size_limit(merchant_client, app, settings):
    settings.MAX_UPLOAD_BYTES = 100
    _upload(merchant_client, app, f.PDF + b"0" * 200)
    assert not ApplicationDocument.objects.exists()


def test_it_serves_the_file_inline_to_its_merchant_and_logs_each_view(merchant_client, merchant_user, app):
    f.upload_all(app, merchant_user)
    doc = app.documents.first()
    url = reverse("applications:document", args=[doc.pk])
    for _ in range(2):
        response = merchant_client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("inline")
        assert response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content) == f.PDF
    assert DocumentAccessLog.objects.filter(document=doc, user=merchant_user).count() == 2


def test_it_logs_the_reviewers_views_too(reviewer_client, reviewer, merchant_user, app):
    f.upload_all(app, merchant_user)
    doc = app.documents.first()
    assert reviewer_client.get(reverse("applications:document", args=[doc.pk])).status_code == 200
    viewer = reviewer_client.get(reverse("applications:document_viewer", args=[doc.pk]))
    assert viewer.status_code == 200 and reverse("applications:document", args=[doc.pk]) in viewer.content.decode()
    assert DocumentAccessLog.objects.filter(document=doc, user=reviewer).count() == 1


def test_it_has_no_public_url_for_uploads(client, merchant_user, app, settings):
    f.upload_all(app, merchant_user)
    doc = app.documents.first()
    assert not getattr(settings, "MEDIA_URL", "").strip("/")
    assert client.get("/" + doc.file.name).status_code == 404
    response = client.get(reverse("applications:document", args=[doc.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_other_staff_roles_cannot_open_identity_documents(agent_client, merchant_user, app):
    f.upload_all(app, merchant_user)
    doc = app.documents.first()
    assert agent_client.get(reverse("applications:document", args=[doc.pk])).status_code == 404


def test_another_merchant_cannot_list_fetch_or_upload(other_client, merchant_user, app):
    f.upload_all(app, merchant_user)
    doc = app.documents.first()
    assert app.number not in other_client.get(reverse("applications:list")).content.decode()
    for url in (
        reverse("applications:detail", args=[app.number]),
        reverse("applications:document", args=[doc.pk]),
        reverse("applications:document_viewer", args=[doc.pk]),
        reverse("applications:deposit", args=[app.number]),
    ):
        assert other_client.get(url).status_code == 404, url
    assert _upload(other_client, app, f.PDF).status_code == 404
    for name in ("transition", "inspection", "deregistration", "volume"):
        assert other_client.post(reverse(f"applications:{name}", args=[app.number]), {"to": "withdrawn"}).status_code == 404
    assert other_client.post(reverse("applications:document_verdict", args=[doc.pk]), {}).status_code == 404
    assert app.documents.count() == 3 and not DocumentAccessLog.objects.exists()


def test_the_reviewer_verifies_and_rejects_with_a_reason(reviewer_client, make_app):
    app = make_app("under_review")
    licence, rep_id = app.documents.get(kind="business_licence"), app.documents.get(kind="legal_rep_id")
    url = "applications:document_verdict"
    reviewer_client.post(reverse(url, args=[licence.pk]), {"verdict": "verified"})
    reviewer_client.post(reverse(url, args=[rep_id.pk]), {"verdict": "rejected", "reason": ""})
    rep_id.refresh_from_db()
    assert rep_id.verdict == "pending"  # a rejection needs its reason
    reviewer_client.post(reverse(url, args=[rep_id.pk]), {"verdict": "rejected", "reason": "身份证已过期"})
    licence.refresh_from_db()
    rep_id.refresh_from_db()
    assert licence.verdict == "verified" and (rep_id.verdict, rep_id.verdict_reason) == ("rejected", "身份证已过期")


def test_a_merchant_cannot_judge_its_own_documents(merchant_client, make_app):
    app = make_app("under_review")
    doc = app.documents.first()
    response = merchant_client.post(reverse("applications:document_verdict", args=[doc.pk]), {"verdict": "verified"})
    assert response.status_code == 403
    doc.refresh_from_db()
    assert doc.verdict == "pending"


def test_documents_are_frozen_after_the_review(merchant_client, make_app):
    app = make_app("inspection")
    _upload(merchant_client, app, f.PDF)
    assert app.documents.count() == 3


def test_only_the_current_file_of_a_kind_is_judged(make_app, merchant_user, reviewer):
    from applications import workflow
    from portal.core.workflow import WorkflowError

    app = make_app("under_review")
    old = app.documents.get(kind="business_licence")
    workflow.add_document(application=app, kind="business_licence", uploaded=f.pdf("new.pdf"),
                          content_type="application/pdf", actor=merchant_user)
    with pytest.raises(WorkflowError) as exc:
        workflow.judge_document(document=old, verdict="verified", actor=reviewer)
    assert exc.value.code == "not_allowed"
