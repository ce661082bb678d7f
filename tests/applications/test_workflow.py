"""The application state machine, by role: every (state, role, target) either moves or is refused."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from applications import workflow
from applications.models import Application, ApplicationEvent
from applications.workflow import application_transition
from portal.core.workflow import WorkflowError
from terminals.models import Terminal
from tests.applications import factories as f
from tests.factories import ChannelFactory, EngineerFactory, UserFactory

pytestmark = pytest.mark.django_db

ALL = list(Application.Status.values)
M, R = "merchant", "reviewer"
# Written out by hand from DESIGN.md (not read from the workflow table): state -> {target: who}.
EXPECTED = {
    "draft": {"submitted": M, "withdrawn": M},
    "submitted": {"under_review": R, "withdrawn": M},
    "needs_info": {"submitted": M, "withdrawn": M},
    "under_review": {"needs_info": R, "inspection": R, "rejected": R, "withdrawn": M},
    "inspection": {"approved": R, "rejected": R, "withdrawn": M},
    "approved": {"contract_signed": R},
    "contract_signed": {"device_assigned": R},
    "device_assigned": {"activated": R},
    "activated": {},
    "rejected": {},
    "withdrawn": {},
}
ROLES = ["merchant", "other_merchant", "reviewer", "admin", "agent", "engineer"]
# Who counts as what: reviewers and administrators review; only the applicant merchant applies.
ACTS_AS = {"merchant": M, "reviewer": R, "admin": R}


class Rollback(Exception):
    pass


def _actor(role, merchant_user, other_merchant_user, reviewer, admin_user):
    return {
        "merchant": merchant_user,
        "other_merchant": other_merchant_user,
        "reviewer": reviewer,
        "admin": admin_user,
        "agent": UserFactory(role="agent"),
        "engineer": EngineerFactory(),
    }[role]


def _fields(app, target):
    fields = {"reason": "资料不全", "contract_number": f"HT-{app.number}", "training_notes": "收银员已培训"}
    if target == "device_assigned":
        fields["terminal"] = f.terminal(app.channel).serial_number
    return fields


@pytest.mark.parametrize("state", list(EXPECTED))
@pytest.mark.parametrize("role", ROLES)
def test_it_allows_exactly_the_designed_transitions(state, role, make_app, merchant_user, other_merchant_user,
                                                     reviewer, admin_user):
    app = make_app(state)
    if state == "draft":
        f.upload_all(app, merchant_user)
    if state == "under_review":
        f.verify_all(app, reviewer)
    if state == "inspection":
        f._prepare_approved(app, merchant_user, reviewer)
    actor = _actor(role, merchant_user, other_merchant_user, reviewer, admin_user)
    for target in ALL:
        fresh = Application.objects.get(pk=app.pk)
        allowed_for = EXPECTED[state].get(target)
        events_before = ApplicationEvent.objects.filter(application=app).count()
        try:
            with transaction.atomic():
                application_transition(application=fresh, to=target, actor=actor, **_fields(fresh, target))
                assert Application.objects.get(pk=app.pk).status == target
                raise Rollback
        except Rollback:
            assert allowed_for == ACTS_AS.get(role), f"{state} → {target} by {role} should be refused"
        except WorkflowError as exc:
            if allowed_for is None:
                assert exc.code == "not_allowed", f"{state} → {target}: {exc.code} {exc.message}"
            else:
                assert allowed_for != ACTS_AS.get(role), f"{state} → {target} by {role} refused: {exc.message}"
                assert exc.code == "forbidden"
            # A refusal changes nothing.
            assert Application.objects.get(pk=app.pk).status == state
            assert ApplicationEvent.objects.filter(application=app).count() == events_before


def test_it_offers_only_the_transitions_the_user_may_make(make_app, merchant_user, reviewer):
    app = make_app("under_review")
    assert [t.target for t in workflow.allowed_transitions(app, reviewer)] == ["needs_info", "inspection", "rejected"]
    assert [t.target for t in workflow.allowed_transitions(app, merchant_user)] == ["withdrawn"]


def test_it_writes_an_event_with_who_and_note(make_app, reviewer):
    app = make_app("submitted")
    event = application_transition(application=app, to="under_review", actor=reviewer, note="开始审核")
    assert (event.from_status, event.to_status, event.actor, event.note) == ("submitted", "under_review", reviewer, "开始审核")
    assert app.status == "under_review"


def test_it_needs_all_documents_to_submit(merchant_user, channel):
    app = f.application(merchant_user, channel)
    with pytest.raises(WorkflowError) as exc:
        application_transition(application=app, to="submitted", actor=merchant_user)
    assert exc.value.code == "invalid" and "documents" in exc.value.field_errors


def test_it_needs_a_reason_to_reject_or_ask_for_information(make_app, reviewer):
    app = make_app("under_review")
    for target in ("needs_info", "rejected"):
        with pytest.raises(WorkflowError) as exc:
            application_transition(application=app, to=target, actor=reviewer)
        assert exc.value.code == "invalid" and "reason" in exc.value.field_errors


def test_it_needs_every_document_verified_before_inspection(make_app, reviewer):
    app = make_app("under_review")
    doc = app.documents.first()
    workflow.judge_document(document=doc, verdict="rejected", actor=reviewer, reason="看不清")
    with pytest.raises(WorkflowError) as exc:
        application_transition(application=app, to="inspection", actor=reviewer)
    assert "documents" in exc.value.field_errors


def test_it_lets_the_merchant_answer_needs_info_with_a_new_document(make_app, merchant_user, reviewer):
    app = make_app("under_review")
    doc = app.documents.get(kind="premises_proof")
    workflow.judge_document(document=doc, verdict="rejected", actor=reviewer, reason="租赁合同过期")
    application_transition(application=app, to="needs_info", actor=reviewer, reason="请上传有效的租赁合同")
    with pytest.raises(WorkflowError):
        application_transition(application=app, to="submitted", actor=merchant_user)
    workflow.add_document(application=app, kind="premises_proof", uploaded=f.pdf("lease.pdf"),
                          content_type="application/pdf", actor=merchant_user)
    application_transition(application=app, to="submitted", actor=merchant_user, note="已上传新合同")
    assert app.status == "submitted"


def test_it_needs_the_inspection_record_to_approve(make_app, merchant_user, reviewer):
    app = make_app("inspection")
    with pytest.raises(WorkflowError) as exc:
        application_transition(application=app, to="approved", actor=reviewer)
    assert "inspection" in exc.value.field_errors
    with pytest.raises(WorkflowError):
        workflow.record_inspection(application=app, actor=reviewer, interview_date=timezone.localdate(),
                                   inspection_date=timezone.localdate() + timedelta(days=1), inspection_notes="x")


def test_it_fixes_the_fee_plan_and_its_terms_at_approval(make_app, reviewer, settings):
    app = make_app("inspection", fee_plan="purchase")
    f._prepare_approved(app, None, reviewer)
    settings.APPLICATION_DEPOSIT_AMOUNT = "500.00"
    application_transition(application=app, to="approved", actor=reviewer, fee_plan="deposit")
    app.refresh_from_db()
    assert (app.fee_plan, app.fee_amount, app.deposit_target, app.deposit_months) == ("deposit", 500, 300000, 10)


def test_it_assigns_only_in_stock_terminals_of_the_same_channel(make_app, reviewer, merchant):
    app = make_app("contract_signed")
    other_channel = f.terminal(ChannelFactory(code="YINXIN"))
    issued = f.terminal(app.channel, merchant=merchant, status=Terminal.Status.ACTIVE)
    for serial in (other_channel.serial_number, issued.serial_number, "NOPE"):
        with pytest.raises(WorkflowError) as exc:
            application_transition(application=app, to="device_assigned", actor=reviewer, terminal=serial)
        assert exc.value.code == "invalid" and "terminal" in exc.value.field_errors
    good = f.terminal(app.channel)
    application_transition(application=app, to="device_assigned", actor=reviewer, terminal=good.serial_number)
    good.refresh_from_db()
    assert (good.status, good.merchant_id) == ("pending_activation", merchant.pk)
    assert list(app.terminals.all()) == [good]


def test_it_assigns_as_many_terminals_as_the_quantity(make_app, reviewer):
    app = make_app("contract_signed", quantity=2)
    one, two = f.terminal(app.channel), f.terminal(app.channel)
    with pytest.raises(WorkflowError):
        application_transition(application=app, to="device_assigned", actor=reviewer, terminal=one.serial_number)
    application_transition(application=app, to="device_assigned", actor=reviewer,
                           terminal=[one.serial_number, two.serial_number])
    assert app.terminals.count() == 2


def test_it_activates_the_terminals_and_records_training(make_app, reviewer):
    app = make_app("device_assigned")
    application_transition(application=app, to="activated", actor=reviewer, training_notes="王芳、李四已培训")
    app.refresh_from_db()
    assert app.training_notes == "王芳、李四已培训" and app.activated_on == timezone.localdate()
    assert [t.status for t in app.terminals.all()] == ["active"]


def test_it_refuses_a_contract_number_used_twice(make_app, reviewer):
    first = make_app("contract_signed")
    second = make_app("approved")
    with pytest.raises(WorkflowError) as exc:
        application_transition(application=second, to="contract_signed", actor=reviewer,
                               contract_number=first.contract_number)
    assert "contract_number" in exc.value.field_errors


def test_it_numbers_applications_per_day(merchant_user, channel):
    a, b = f.application(merchant_user, channel), f.application(merchant_user, channel)
    day = timezone.localdate().strftime("%Y%m%d")
    assert a.number.startswith(f"AP{day}-")
    assert int(b.number[-4:]) == int(a.number[-4:]) + 1


def test_only_merchants_apply(reviewer, channel):
    with pytest.raises(WorkflowError) as exc:
        workflow.create_application(actor=reviewer, kind="new", channel=channel, fee_plan="free")
    assert exc.value.code == "forbidden"
