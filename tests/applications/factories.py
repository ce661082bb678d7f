"""Terminals, unrepairable tickets and applications in any state, for the applications tests."""

import itertools
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from applications import workflow
from applications.models import Application, ApplicationDocument
from terminals.models import Terminal

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200

_n = itertools.count(1)


def pdf(name="licence.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def terminal(channel, *, merchant=None, status=Terminal.Status.IN_STOCK, **fields):
    n = next(_n)
    return Terminal.objects.create(
        serial_number=f"APSN{n:08d}", tag_number=f"APTAG{n:07d}", model="P2", manufacturer="商米",
        channel=channel, merchant=merchant, status=status, **fields,
    )


def unrepairable_ticket(merchant, channel):
    """A ticket the branch found unrepairable, its terminal retired (as the tickets workflow leaves it)."""
    from repairs.models import FaultTicket

    old = terminal(channel, merchant=merchant, status=Terminal.Status.RETIRED)
    n = next(_n)
    return FaultTicket.objects.create(
        service_order_no=f"SO20261124-{n:04d}", terminal=old, merchant=merchant,
        status=FaultTicket.Status.UNREPAIRABLE, fault_type="system_fault", symptoms="主板烧坏",
    )


def application(merchant_user, channel, *, kind="new", ticket=None, fee_plan="purchase", quantity=1):
    return workflow.create_application(
        actor=merchant_user, kind=kind, channel=channel, fee_plan=fee_plan, quantity=quantity, ticket=ticket,
    )


def upload_all(app, user):
    for kind in ApplicationDocument.Kind.values:
        workflow.add_document(application=app, kind=kind, uploaded=pdf(), content_type="application/pdf", actor=user)


def verify_all(app, reviewer):
    for doc in app.documents.all():
        workflow.judge_document(document=doc, verdict="verified", actor=reviewer)


def deregister_old(app, reviewer):
    return workflow.record_old_terminal_deregistration(
        application=app, actor=reviewer, method="destroyed", certificate_number="XH-2026-001",
        witness="赵六", date=timezone.localdate(),
    )


# The steps of the happy path: (target, who acts, how to prepare, fields).
def _prepare_inspection(app, merchant_user, reviewer):
    verify_all(app, reviewer)


def _prepare_approved(app, merchant_user, reviewer):
    today = timezone.localdate()
    workflow.record_inspection(
        application=app, actor=reviewer, interview_date=today - timedelta(days=1), interview_notes="法人到场",
        inspection_date=today, inspection_notes="经营场所属实",
    )


def _prepare_device(app, merchant_user, reviewer):
    for _i in range(app.quantity):
        terminal(app.channel)


def _prepare_activated(app, merchant_user, reviewer):
    if app.kind == Application.Kind.REPLACEMENT:
        deregister_old(app, reviewer)


def _fields(app, target):
    if target == "contract_signed":
        return {"contract_number": f"HT-{app.number}"}
    if target == "device_assigned":
        stock = Terminal.objects.filter(status="in_stock", channel=app.channel, merchant__isnull=True)
        return {"terminal": [t.serial_number for t in stock.order_by("-pk")[: app.quantity]]}
    if target == "activated":
        return {"training_notes": "两名收银员已培训"}
    return {}


STEPS = [
    ("submitted", "merchant", None),
    ("under_review", "reviewer", None),
    ("inspection", "reviewer", _prepare_inspection),
    ("approved", "reviewer", _prepare_approved),
    ("contract_signed", "reviewer", None),
    ("device_assigned", "reviewer", _prepare_device),
    ("activated", "reviewer", _prepare_activated),
]
ORDER = ["draft"] + [step[0] for step in STEPS]


def advance(app, to, *, merchant_user, reviewer):
    """Walk `app` along the happy path until it reaches `to` (documents, records and stock included)."""
    start = ORDER.index(app.status)
    for target, who, prepare in STEPS[start: ORDER.index(to)]:
        if target == "submitted" and not app.documents.exists():
            upload_all(app, merchant_user)
        if prepare:
            prepare(app, merchant_user, reviewer)
        actor = merchant_user if who == "merchant" else reviewer
        workflow.application_transition(application=app, to=target, actor=actor, **_fields(app, target))
    app.refresh_from_db()
    return app
