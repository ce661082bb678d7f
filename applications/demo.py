"""Demo data: one application in progress for the demo user `merchant` (idempotent)."""

from django.core.files.base import ContentFile

from applications import workflow
from applications.models import Application, ApplicationDocument

DEMO_REMARKS = "新开第二家门店（演示数据）"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def seed(ctx):
    merchant_user, reviewer = ctx.users["merchant"], ctx.users["reviewer"]
    if Application.objects.filter(merchant=ctx.merchants["merchant"], remarks=DEMO_REMARKS).exists():
        return
    app = workflow.create_application(
        actor=merchant_user, kind=Application.Kind.NEW, channel=ctx.channels["YINXIN"],
        fee_plan=Application.FeePlan.DEPOSIT, quantity=1, remarks=DEMO_REMARKS,
    )
    for kind in ApplicationDocument.Kind.values:
        upload = ContentFile(PDF, name=f"{kind}.pdf")
        workflow.add_document(application=app, kind=kind, uploaded=upload, content_type="application/pdf",
                              actor=merchant_user)
    workflow.application_transition(application=app, to=Application.Status.SUBMITTED, actor=merchant_user)
    workflow.application_transition(application=app, to=Application.Status.UNDER_REVIEW, actor=reviewer,
                                    note="资料已收到，正在审核")
