"""The kinds of event that notify people, and the status names their templates show.

A kind names a template set in templates/notifications/<kind>/ (subject.txt, body.txt, body.html,
sms.txt); a kind without its own set uses templates/notifications/default/.
"""

from django.utils.translation import gettext_lazy as _

KINDS = {
    "ticket.status": _("Fault ticket status changes"),
    "ticket.comment": _("Comments on fault tickets"),
    "ticket.auto_closed": _("Fault tickets closed automatically"),
    "application.status": _("Application status changes"),
    "sla.breach": _("SLA breach warnings"),
    "maintenance.reminder": _("Maintenance reminders"),
    "deposit.eligible": _("Deposit refund eligibility"),
    "deposit.deadline": _("Deposit deadline warnings"),
}

# Kinds that only concern staff; merchants are not offered them on the preferences page.
STAFF_ONLY_KINDS = {"sla.breach"}

# The status names of tickets and applications as DESIGN.md spells them. The templates show them
# in the recipient's language through the `status_label` filter; the owning apps' own labels win
# when they define the same code.
TICKET_STATUSES = {
    "reported": _("Reported"),
    "remote_diagnosis": _("Remote diagnosis"),
    "resolved_remotely": _("Resolved remotely"),
    "awaiting_branch": _("Awaiting branch visit"),
    "at_branch": _("At the branch"),
    "diagnosing": _("Diagnosing"),
    "repairing": _("Repairing"),
    "network_testing": _("Network testing"),
    "ready_for_pickup": _("Ready for pickup"),
    "picked_up": _("Picked up"),
    "unrepairable": _("Unrepairable"),
    "replacement": _("Replacement"),
    "closed": _("Closed"),
    "cancelled": _("Cancelled"),
}

APPLICATION_STATUSES = {
    "draft": _("Draft"),
    "submitted": _("Submitted"),
    "needs_info": _("Needs information"),
    "under_review": _("Under review"),
    "inspection": _("Inspection"),
    "approved": _("Approved"),
    "rejected": _("Rejected"),
    "withdrawn": _("Withdrawn"),
    "contract_signed": _("Contract signed"),
    "device_assigned": _("Device assigned"),
    "activated": _("Activated"),
}


def kind_label(kind):
    return KINDS.get(kind, kind)


def status_label(code, family="ticket"):
    table = APPLICATION_STATUSES if family == "application" else TICKET_STATUSES
    return table.get(code, code)
