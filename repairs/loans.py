"""Loaner terminals lent against a fault ticket, so the merchant keeps taking payments.

Lent at intake (`at_branch`) from the ticket branch's pool, checked by serial and tag; bound to
the ticket's merchant for this repair only (terminals.loaners keeps the one-merchant rule on the
terminal row); returned at pickup (checked by serial and tag) or recorded missing or damaged —
`ticket_transition` refuses `picked_up` while a loan is out. An unrepairable ticket keeps its
loaner until the replacement is activated (the ticket closes), then it must come back.
The page and the API call the same functions below.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.services import notify
from portal.accounts.models import Role, User
from portal.core.cache import forget, read_through, shape_of
from portal.core.querysets import built_once
from portal.core.workflow import WorkflowError
from repairs.models import FaultTicket, Loan
from terminals import loaners as pool
from terminals.models import Terminal, validate_mid, validate_tid
from terminals.selectors import TimelineEntry, timeline_source

S = FaultTicket.Status
LEND_STATUSES = (S.AT_BRANCH,)
# Where the merchant keeps the loaner until the replacement terminal is activated.
REPLACEMENT_STATUSES = (S.UNREPAIRABLE, S.REPLACEMENT)
OUTCOMES = ("returned", "missing", "damaged")


def may_handle(ticket, user):
    """Engineers of the ticket's branch and administrators lend and take back loaners."""
    return pool.may_manage_pool(user, ticket.branch_id)


def _invalid(errors):
    raise WorkflowError(
        " ".join(m for ms in errors.values() for m in ms), code="invalid", field_errors=errors
    )


def _lock_ticket(ticket):
    return FaultTicket.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=ticket.pk)


def lend_loaner(*, ticket, actor, serial_number, tag_number, tid="", mid="", note=""):
    """Lend a loaner of the ticket's branch to its merchant (checked by serial and tag)."""
    serial_number, tag_number = (serial_number or "").strip(), (tag_number or "").strip()
    tid, mid = (tid or "").strip().upper(), (mid or "").strip()
    with transaction.atomic():
        locked = _lock_ticket(ticket)
        if not may_handle(locked, actor):
            raise WorkflowError(_("Only engineers of the ticket's branch can lend a loaner."), code="forbidden")
        if locked.status not in LEND_STATUSES:
            raise WorkflowError(_("A loaner is lent at intake, while the ticket is at the branch."))
        if Loan.objects.out().filter(ticket=locked).exists():
            message = _("This ticket already has a loaner out: one loaner per ticket.")
            raise WorkflowError(message, code="not_allowed", field_errors={"serial_number": [message]})
        errors = {}
        if not serial_number:
            errors["serial_number"] = [_("Enter the loaner's serial number.")]
        if not tag_number:
            errors["tag_number"] = [_("Enter the loaner's tag number.")]
        for name, value, validator in (("tid", tid, validate_tid), ("mid", mid, validate_mid)):
            if value:
                try:
                    validator(value)
                except ValidationError as exc:
                    errors[name] = list(exc.messages)
        if errors:
            _invalid(errors)
        loaner = Terminal.objects.filter(
            serial_number__iexact=serial_number, home_branch_id=locked.branch_id
        ).exclude(loaner_state="").first()
        if loaner is None:
            _invalid({"serial_number": [_("No loaner with this serial number in this branch's pool.")]})
        if loaner.tag_number.upper() != tag_number.upper():
            _invalid({"tag_number": [_("This is not the tag of loaner %(serial)s: check the device.")
                                     % {"serial": loaner.serial_number}]})
        pool.lend(
            loaner=loaner, merchant=locked.merchant, actor=actor,
            note=_("Lent to %(merchant)s for ticket %(no)s.") % {"merchant": locked.merchant.name,
                                                                "no": locked.service_order_no},
        )
        loan = Loan.objects.create(
            ticket=locked, loaner=loaner, merchant=locked.merchant, branch_id=locked.branch_id,
            serial_number=loaner.serial_number, tag_number=loaner.tag_number, tid=tid, mid=mid,
            lent_by=actor, note=(note or "")[:300],
        )
        _notify(loan, "loaner.lent", actor)
    return loan


def return_loaner(*, ticket, actor, outcome="returned", serial_number="", tag_number="", note=""):
    """Account for the ticket's loaner: returned (serial and tag checked) or missing/damaged."""
    with transaction.atomic():
        locked = _lock_ticket(ticket)
        if not may_handle(locked, actor):
            raise WorkflowError(_("Only engineers of the ticket's branch can take a loaner back."), code="forbidden")
        loan = Loan.objects.out().select_for_update().filter(ticket=locked).first()
        if loan is None:
            raise WorkflowError(_("This ticket has no loaner out."))
        if outcome not in OUTCOMES:
            _invalid({"outcome": [_("Choose returned, missing or damaged.")]})
        note = (note or "").strip()
        if outcome != "missing":
            errors = {}
            if (serial_number or "").strip().upper() != loan.serial_number.upper():
                errors["serial_number"] = [_("This is not the serial number of the loaner lent: check the device.")]
            if (tag_number or "").strip().upper() != loan.tag_number.upper():
                errors["tag_number"] = [_("This is not the tag number of the loaner lent: check the device.")]
            if errors:
                _invalid(errors)
        if outcome != "returned" and not note:
            _invalid({"note": [_("Say what happened to the loaner.")]})
        labels = {
            "returned": _("Returned by %(merchant)s (ticket %(no)s); waiting for cleaning and inspection."),
            "missing": _("Recorded missing from %(merchant)s (ticket %(no)s)."),
            "damaged": _("Returned damaged by %(merchant)s (ticket %(no)s)."),
        }
        text = labels[outcome] % {"merchant": locked.merchant.name, "no": locked.service_order_no}
        pool.take_back(loaner=loan.loaner, actor=actor, outcome=outcome, note=f"{text} {note}".strip())
        loan.outcome = outcome
        loan.returned_at = timezone.now()
        loan.returned_by = actor
        if note:
            loan.note = note[:300]
        loan.save(update_fields=["outcome", "returned_at", "returned_by", "note"])
        _notify(loan, "loaner.returned", actor)
    return loan


# --- notifications --------------------------------------------------------------------------


def _context(loan):
    return {
        "serial_number": loan.serial_number,
        "tag_number": loan.tag_number,
        "service_order_no": loan.ticket.service_order_no,
        "outcome": loan.outcome,
        "days": loan.days_out,
    }


def _merchant_users(loan):
    return list(User.objects.filter(merchant_id=loan.merchant_id, is_active=True)
                .select_related("notification_preference"))


def _branch_engineers(loan):
    return list(User.objects.filter(branch_id=loan.branch_id, role=Role.ENGINEER, is_active=True)
                .select_related("notification_preference"))


def _notify(loan, kind, actor):
    recipients = [u for u in _merchant_users(loan) if actor is None or u.pk != actor.pk]
    notify(kind=kind, event_key=f"{kind}:{loan.pk}", recipients=recipients, context=_context(loan),
           url=loan.ticket.get_absolute_url())


def loaner_reminders(now=None):
    """Remind the merchant and the branch of each loaner out longer than LOANER_REMINDER_DAYS, once per loan."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.LOANER_REMINDER_DAYS)
    count = 0
    for loan in Loan.objects.out().filter(lent_at__lte=cutoff).select_related("ticket").order_by("lent_at")[:1000]:
        with transaction.atomic():
            rows = notify(
                kind="loaner.reminder", event_key=f"loaner.reminder:{loan.pk}",
                recipients=_merchant_users(loan) + _branch_engineers(loan), context=_context(loan),
                url=loan.ticket.get_absolute_url(),
            )
        count += bool(rows)
    return count


# --- reads ----------------------------------------------------------------------------------


@dataclass
class LoanerNotice:
    """What the merchant is told about a loaner it has."""

    serial_number: str
    service_order_no: str
    text: str


def notice(loan):
    """'on loan: <serial> — return it at pickup' (or when, for a replacement)."""
    return _notice(loan.serial_number, loan.ticket.service_order_no, loan.ticket.status)


def _notice(serial_number, service_order_no, ticket_status):
    if ticket_status in REPLACEMENT_STATUSES:
        text = _("On loan: %(serial)s — keep it until your replacement terminal is activated, then return it.")
    elif ticket_status in FaultTicket.FINAL_STATUSES:
        text = _("On loan: %(serial)s — please return it to the branch now.")
    else:
        text = _("On loan: %(serial)s — return it at pickup.")
    return LoanerNotice(serial_number, service_order_no, text % {"serial": serial_number})


def merchant_notices(user):
    """The loaners the user's merchant has now, as notices (dashboard and terminal list): one query
    of the three columns a notice is made of."""
    if not user.is_authenticated or not user.merchant_id:
        return []
    return [_notice(*row) for row in _out_notice_columns().filter(merchant_id=user.merchant_id)]


@built_once
def _out_notice_columns():
    return Loan.objects.out().order_by("lent_at", "pk").values_list(
        "serial_number", "ticket__service_order_no", "ticket__status"
    )


def ticket_loans(ticket, user):
    """The ticket's loans as `user` may see them, newest first."""
    if not ticket.may_have("loans"):
        return []
    return list(Loan.objects.visible_to(user).filter(ticket=ticket).select_related("ticket", "lent_by", "returned_by"))


def loaner_history(loaner):
    """Every loan of one loaner, newest first (the pool page)."""
    return Loan.objects.filter(loaner=loaner).select_related("ticket", "merchant", "lent_by", "returned_by")


# The reports and the pool page show how the loaners are used now: kept in the shared cache per
# pool (a branch's, or every branch's) and forgotten by any save or delete of a loan (register);
# the lifetime only bounds what a bulk write could leave behind.
UTILISATION_SECONDS = 300


def _utilisation_key(branch_id):
    return f"repairs:loaner-utilisation:{shape_of(Loan)}:{branch_id or 'all'}"


def utilisation(user):
    """Loaners out now, average days out (loans accounted for) and missing: a branch's for its
    engineers, every branch's for reviewers and admins (the reports)."""
    if user.is_reviewer_or_admin:
        branch_id = None
    elif user.is_engineer and user.branch_id:
        branch_id = user.branch_id
    else:
        return {"out_now": 0, "average_days_out": None, "missing": 0, "loans": 0}
    return read_through(_utilisation_key(branch_id), lambda: _utilisation(branch_id), UTILISATION_SECONDS)


def _utilisation(branch_id):
    loans = Loan.objects.all() if branch_id is None else Loan.objects.filter(branch_id=branch_id)
    totals = loans.aggregate(
        out_now=Count("pk", filter=Q(outcome=Loan.Outcome.OUT)),
        missing=Count("pk", filter=Q(outcome=Loan.Outcome.MISSING)),
        loans=Count("pk"),
        average=Avg(F("returned_at") - F("lent_at"), filter=Q(returned_at__isnull=False)),
    )
    average = totals.pop("average")
    totals["average_days_out"] = round(average.total_seconds() / 86400, 1) if average is not None else None
    return totals


def _loan_changed(sender, instance, **kwargs):
    forget([_utilisation_key(None), _utilisation_key(instance.branch_id)])


# --- timeline of both terminals -------------------------------------------------------------


def loan_entries(terminal, user, limit):
    """On the repaired terminal: its loaner lent and returned; on the loaner: the ticket it served."""
    loans = (
        Loan.objects.visible_to(user).filter(Q(loaner=terminal) | Q(ticket__terminal=terminal))
        .select_related("ticket", "lent_by", "returned_by").order_by("-lent_at", "-pk")
    )
    for loan in loans[:limit]:
        number = loan.ticket.service_order_no
        yield TimelineEntry(
            at=loan.lent_at, kind="loan", icon="arrow-left-right", url=loan.ticket.get_absolute_url(),
            title=_("Loaner %(serial)s lent for ticket %(no)s") % {"serial": loan.serial_number, "no": number},
            actor=loan.lent_by.display_name,
        )
        if loan.returned_at:
            yield TimelineEntry(
                at=loan.returned_at, kind="loan", icon="arrow-left-right", url=loan.ticket.get_absolute_url(),
                title=_("Loaner %(serial)s: %(outcome)s") % {"serial": loan.serial_number,
                                                             "outcome": loan.get_outcome_display()},
                detail=loan.note,
                actor=loan.returned_by.display_name if loan.returned_by_id else "",
            )


def register():
    from django.db.models.signals import post_delete, post_save

    timeline_source("loans")(loan_entries)
    for name, signal in (("saved", post_save), ("deleted", post_delete)):
        signal.connect(_loan_changed, sender=Loan, dispatch_uid=f"forget-loaner-utilisation-{name}")


def current_loans(loaners):
    """{loaner id: its loan out now} for a page of loaners: one query."""
    loans = Loan.objects.out().filter(loaner__in=[t.pk for t in loaners]).select_related("ticket", "merchant")
    return {loan.loaner_id: loan for loan in loans}
