"""Which object each URL with a kwarg points at, and how to make one that belongs to merchant A.

The cross-merchant test asks this registry for every URL pattern that takes an argument. A URL
nobody registered fails that test, so a new page cannot slip through unchecked: add a builder to
BY_NAME (or, for a kwarg that always means the same object, to BY_KWARG), or list the URL in
NOT_MERCHANT_DATA with the reason it holds no merchant's data.

A builder receives the `Owner` (merchant A's world) and returns the URL's kwargs.
"""

import itertools
from functools import cached_property

from django.core.files.base import ContentFile

from tests.factories import BranchFactory, ChannelFactory, MerchantUserFactory, UserFactory

_serials = itertools.count(1)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Owner:
    """Merchant A: its user, one active terminal, and objects made on demand."""

    def __init__(self):
        self.user = MerchantUserFactory(phone="13800000001")
        self.merchant = self.user.merchant
        self.channel = ChannelFactory(code="SECBANK")
        self.branch = BranchFactory(code="SEC01")
        self.agent = UserFactory(role="agent")

    def new_terminal(self, status="active"):
        from terminals.models import Terminal

        n = next(_serials)
        return Terminal.objects.create(
            serial_number=f"SECSN{n:08d}", tag_number=f"SECTAG{n:07d}", model="P2", manufacturer="商米",
            channel=self.channel, merchant=self.merchant, home_branch=self.branch, status=status,
            tid=f"S{n:07d}", mid=f"{n:015d}",
        )

    @cached_property
    def terminal(self):
        return self.new_terminal()

    @cached_property
    def loaner(self):
        """A terminal of the bank in branch SEC01's loaner pool (no merchant's until lent)."""
        from terminals import loaners
        from terminals.models import Terminal
        from tests.factories import AdminFactory

        n = next(_serials)
        terminal = Terminal.objects.create(
            serial_number=f"SECLN{n:08d}", tag_number=f"SECLT{n:07d}", model="P2", manufacturer="商米",
            channel=self.channel, status=Terminal.Status.IN_STOCK,
        )
        loaners.add_to_pool(terminal=terminal, branch=self.branch, actor=AdminFactory())
        return terminal

    @cached_property
    def ticket(self):
        from repairs.workflow import create_ticket

        return create_ticket(
            terminal=self.new_terminal(), actor=self.user, fault_type="printer", symptoms="打印机不出纸"
        )

    @cached_property
    def application(self):
        from applications.workflow import create_application

        return create_application(actor=self.user, kind="new", channel=self.channel, fee_plan="purchase")

    @cached_property
    def merchant_document(self):
        from portal.accounts.models import MerchantDocument

        doc = MerchantDocument(
            merchant=self.merchant, kind="business_licence", content_type="application/pdf",
            original_name="licence.pdf", size=len(PDF), uploaded_by=self.user,
        )
        doc.file.save("licence.pdf", ContentFile(PDF), save=True)
        return doc

    @cached_property
    def ticket_attachment(self):
        from repairs.models import TicketAttachment

        att = TicketAttachment(ticket=self.ticket, content_type="application/pdf", original_name="photo.pdf",
                               size=len(PDF), uploaded_by=self.user)
        att.file.save("photo.pdf", ContentFile(PDF), save=True)
        return att

    @cached_property
    def application_document(self):
        from applications.models import ApplicationDocument

        doc = ApplicationDocument(application=self.application, kind="business_licence",
                                  content_type="application/pdf", original_name="licence.pdf", size=len(PDF),
                                  uploaded_by=self.user)
        doc.file.save("licence.pdf", ContentFile(PDF), save=True)
        return doc

    @cached_property
    def import_job(self):
        from terminals.models import ImportJob

        job = ImportJob(original_name="stock.csv", format="csv", size=10, created_by=UserFactory(role="reviewer"))
        job.file.save("stock.csv", ContentFile(b"serial_number\n"), save=True)
        return job

    @cached_property
    def notification(self):
        from notifications.models import Notification

        return Notification.objects.create(
            kind="ticket.status", event_key="security-test", recipient=self.user, channel="in_app",
            status="sent", context={"service_order_no": "SO20260101-0001"},
        )


class Staff:
    """Marks a staff-only URL: the control request (that the object is real) is made by an
    administrator, and every merchant must get a 404 or the same role refusal as merchant A."""

    def __init__(self, builder):
        self.builder = builder

    def __call__(self, owner):
        return self.builder(owner)


# URL name -> builder. Names are "namespace:name" as reverse() spells them.
BY_NAME = {
    "accounts:merchant": lambda o: {"pk": o.merchant.pk},
    "accounts:document_upload": lambda o: {"pk": o.merchant.pk},
    "accounts:document": lambda o: {"pk": o.merchant_document.pk},
    "terminals:import_detail": Staff(lambda o: {"pk": o.import_job.pk}),
    "terminals:import_progress": Staff(lambda o: {"pk": o.import_job.pk}),
    "terminal-deregistration": Staff(lambda o: {"serial_number": o.terminal.serial_number}),
    "tickets:attachment": lambda o: {"pk": o.ticket_attachment.pk},
    "applications:document": lambda o: {"pk": o.application_document.pk},
    "applications:document_viewer": lambda o: {"pk": o.application_document.pk},
    "applications:document_verdict": Staff(lambda o: {"pk": o.application_document.pk}),
    "notifications:read": lambda o: {"pk": o.notification.pk},
    "notifications:open": lambda o: {"pk": o.notification.pk},
    "notifications:log_detail": Staff(lambda o: {"pk": o.notification.pk}),
    "notifications:log_retry": Staff(lambda o: {"pk": o.notification.pk}),
    # The API twins of the pages above (tests/security/test_api_parity.py).
    "application-document-verdict": Staff(lambda o: {"number": o.application.number,
                                                     "pk": o.application_document.pk}),
    "ticket-attachment-file": lambda o: {"service_order_no": o.ticket.service_order_no,
                                         "pk": o.ticket_attachment.pk},
    "terminal-import": Staff(lambda o: {"pk": o.import_job.pk}),
    "terminal-import-rejected": Staff(lambda o: {"pk": o.import_job.pk}),
    "notification-read": lambda o: {"pk": o.notification.pk},
    "notification-retry": Staff(lambda o: {"pk": o.notification.pk}),
    "merchant-documents": lambda o: {"pk": o.merchant.pk},
    # Staff-only: a terminal's health (the agent's remote diagnosis), the branch's loaner pool.
    "terminal-health": Staff(lambda o: {"serial_number": o.terminal.serial_number}),
    "loaner-detail": Staff(lambda o: {"serial_number": o.loaner.serial_number}),
    "loaner-inspection": Staff(lambda o: {"serial_number": o.loaner.serial_number}),
}

# A kwarg that means the same kind of object wherever it appears.
BY_KWARG = {
    "service_order_no": lambda o: {"service_order_no": o.ticket.service_order_no},
    "serial_number": lambda o: {"serial_number": o.terminal.serial_number},
    "number": lambda o: {"number": o.application.number},
}

# URLs with arguments that hold no merchant's data, and why.
NOT_MERCHANT_DATA = {
    "password_reset_confirm": "public: a signed, expiring token",
}
NOT_MERCHANT_PREFIXES = {
    "admin/": "the Django admin: staff only (merchants are sent to the admin sign-in)",
    "track/": "public tracking: needs the service-order number AND the tag number",
}

# Extra kwargs that are not objects (DRF's format suffix).
PLAIN_KWARGS = {"format": "json"}


def builder_for(route):
    """The builder of a route's kwargs, "" when it holds no merchant data, or None if unregistered."""
    if route.name in NOT_MERCHANT_DATA or route.regex.lstrip("^").startswith(tuple(NOT_MERCHANT_PREFIXES)):
        return ""
    object_kwargs = [k for k in route.kwargs if k not in PLAIN_KWARGS]
    if not object_kwargs:
        return ""
    if route.name in BY_NAME:
        return BY_NAME[route.name]
    if len(object_kwargs) == 1 and object_kwargs[0] in BY_KWARG:
        return BY_KWARG[object_kwargs[0]]
    return None


def build_kwargs(route, owner):
    kwargs = dict(builder_for(route)(owner))
    for name, value in PLAIN_KWARGS.items():
        if name in route.kwargs:
            kwargs[name] = value
    return kwargs
