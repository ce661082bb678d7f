"""Fault tickets: one fault of one terminal, from the merchant's call to closing.

Every status change goes through `repairs.workflow.ticket_transition`; nothing here writes a status.
"""


from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import MerchantOwnedQuerySet
from portal.core.uploads import UploadTo


class FaultTicketQuerySet(MerchantOwnedQuerySet):
    branch_lookup = "branch_id"  # an engineer sees its own branch's tickets only

    def open(self):
        return self.exclude(status__in=FaultTicket.FINAL_STATUSES)

    def overdue(self, now=None):
        return self.filter(
            status__in=FaultTicket.SLA_STATUSES, sla_due_at__lt=now or timezone.now()
        )

    def with_page_flags(self):
        """Whether each ticket has any of the parts its page shows only when they exist (loans,
        comments, files, a rating, a booked drop-off, other tickets of its terminal): one EXISTS
        each on the ticket's own query, so the page asks for a part only when it has one
        (`FaultTicket.may_have`). Most tickets have none of them."""
        ticket = OuterRef("pk")
        return self.annotate(
            has_loans=Exists(Loan.objects.filter(ticket=ticket)),
            has_comments=Exists(TicketComment.objects.filter(ticket=ticket)),
            has_files=Exists(TicketAttachment.objects.filter(ticket=ticket)),
            has_rating=Exists(Satisfaction.objects.filter(ticket=ticket)),
            has_booking=Exists(DropoffBooking.objects.filter(ticket=ticket, status=DropoffBooking.Status.BOOKED)),
            has_others=Exists(FaultTicket.objects.filter(terminal_id=OuterRef("terminal_id")).exclude(pk=ticket)),
        )


class SlaClock:
    """`sla_running` and `is_overdue` of anything with a ticket's `status` and `sla_due_at` (a
    ticket, or a row of a ticket table)."""

    __slots__ = ()

    @property
    def sla_running(self):
        return bool(self.sla_due_at) and self.status in FaultTicket.SLA_STATUSES

    @property
    def is_overdue(self):
        return bool(
            self.sla_due_at and self.status in FaultTicket.SLA_STATUSES and self.sla_due_at < timezone.now()
        )


class FaultTicket(SlaClock, models.Model):
    class Status(models.TextChoices):
        REPORTED = "reported", _("Reported")
        REMOTE_DIAGNOSIS = "remote_diagnosis", _("Remote diagnosis")
        RESOLVED_REMOTELY = "resolved_remotely", _("Resolved remotely")
        AWAITING_BRANCH = "awaiting_branch", _("Awaiting branch visit")
        AT_BRANCH = "at_branch", _("At the branch")
        DIAGNOSING = "diagnosing", _("Diagnosing")
        REPAIRING = "repairing", _("Repairing")
        NETWORK_TESTING = "network_testing", _("Network test")
        READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
        PICKED_UP = "picked_up", _("Picked up")
        UNREPAIRABLE = "unrepairable", _("Unrepairable")
        REPLACEMENT = "replacement", _("Replacement")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    class FaultType(models.TextChoices):
        CANNOT_ACCEPT_PAYMENT = "cannot_accept_payment", _("Cannot accept payments")
        SYSTEM_FAULT = "system_fault", _("System fault")
        PIN_ENTRY_ERROR = "pin_entry_error", _("PIN-entry error")
        CARD_READER = "card_reader", _("Card reader")
        PRINTER = "printer", _("Printer")
        NETWORK = "network", _("Network")
        DISPLAY = "display", _("Display")
        POWER = "power", _("Power")
        OTHER = "other", _("Other")

    class Priority(models.TextChoices):
        URGENT = "urgent", _("Urgent")
        HIGH = "high", _("High")
        NORMAL = "normal", _("Normal")
        LOW = "low", _("Low")

    class Source(models.TextChoices):
        PORTAL = "portal", _("Portal")
        PHONE = "phone", _("Phone call")
        API = "api", _("API")
        MONITORING = "monitoring", _("Monitoring")

    FINAL_STATUSES = (Status.CLOSED, Status.CANCELLED)
    # The merchant rates the repair once it is over: resolved (remotely or picked up) or closed.
    RATABLE_STATUSES = (Status.RESOLVED_REMOTELY, Status.PICKED_UP, Status.CLOSED)
    # The statuses in which the branch, not the agent, has the ticket (the engineer's queue).
    BRANCH_STATUSES = (
        Status.AWAITING_BRANCH,
        Status.AT_BRANCH,
        Status.DIAGNOSING,
        Status.REPAIRING,
        Status.NETWORK_TESTING,
        Status.READY_FOR_PICKUP,
        Status.UNREPAIRABLE,
    )
    # The SLA clock runs while the bank owes the merchant a fix (not while it waits on the merchant).
    SLA_STATUSES = (
        Status.REPORTED,
        Status.REMOTE_DIAGNOSIS,
        Status.AT_BRANCH,
        Status.DIAGNOSING,
        Status.REPAIRING,
        Status.NETWORK_TESTING,
    )

    service_order_no = models.CharField(_("service-order number"), max_length=20, unique=True, editable=False)
    terminal = models.ForeignKey(
        "terminals.Terminal", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("terminal")
    )
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.PROTECT, related_name="tickets", verbose_name=_("merchant")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REPORTED, editable=False
    )
    fault_type = models.CharField(_("fault type"), max_length=32, choices=FaultType.choices)
    symptoms = models.TextField(_("symptoms"), max_length=4000)
    contact_window = models.CharField(_("preferred contact window"), max_length=100, blank=True)
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    source = models.CharField(_("reported through"), max_length=10, choices=Source.choices, default=Source.PORTAL)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("reported by"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="agent_tickets", verbose_name=_("agent"),
    )
    agent_name = models.CharField(_("agent's name"), max_length=150, blank=True)
    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.PROTECT, null=True, blank=True, related_name="tickets",
        verbose_name=_("branch"),
    )
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    # Bumped by every transition: a form or API call that sends the version it saw is refused as
    # stale when someone else changed the ticket in between.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)

    objects = FaultTicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("fault ticket")
        verbose_name_plural = _("fault tickets")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A terminal has at most one open ticket (the workflow checks first; this is the backstop).
            models.UniqueConstraint(
                fields=["terminal"],
                condition=~Q(status__in=["closed", "cancelled"]),
                name="one_open_ticket_per_terminal",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"]),
            models.Index(fields=["branch", "status"]),
            models.Index(fields=["agent", "status"]),
            models.Index(fields=["merchant", "status"]),
            models.Index(fields=["sla_due_at"]),
            models.Index(fields=["-created_at"]),
            models.Index(fields=["terminal", "-created_at"]),
            models.Index(fields=["status", "status_changed_at"]),
        ]

    def __str__(self):
        return self.service_order_no

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("tickets:detail", args=[self.service_order_no])

    @property
    def is_open(self):
        return self.status not in self.FINAL_STATUSES

    PAGE_PARTS = ("loans", "comments", "files", "rating", "booking", "others")

    def may_have(self, part):
        """False only when the ticket was read `with_page_flags()` and has no `part` (then its page
        skips that query); True when it has one, or when nobody asked (then the query tells)."""
        if part not in self.PAGE_PARTS:
            raise ValueError(f"unknown ticket part: {part!r}")
        return getattr(self, f"has_{part}", True)


class RepairRequest(models.Model):
    """The branch intake form (维修申请单) of a ticket, filled in at the counter."""

    class Document(models.TextChoices):
        ACCOUNT_OPENING_PERMIT = "account_opening_permit", _("Account-opening permit")
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        OPERATOR_ID = "operator_id", _("Operator's ID")

    ticket = models.OneToOneField(FaultTicket, on_delete=models.CASCADE, related_name="repair_request")
    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="+", verbose_name=_("branch"))
    form_number = models.CharField(_("form number"), max_length=40, unique=True)
    checked_tag_number = models.CharField(_("tag number as checked"), max_length=40)
    checked_serial_number = models.CharField(_("serial number as checked"), max_length=40)
    documents = models.JSONField(_("documents presented"), default=list)
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("engineer")
    )
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    work_done = models.TextField(_("work done"), blank=True)
    parts = models.CharField(_("parts replaced"), max_length=300, blank=True)
    # Shown only to the owning merchant while the ticket is ready for pickup; the engineer asks for it.
    pickup_code = models.CharField(_("pickup code"), max_length=12, blank=True)
    pickup_attempts = models.PositiveSmallIntegerField(_("wrong pickup-code attempts"), default=0)
    picked_up_at = models.DateTimeField(_("picked up"), null=True, blank=True)
    created_at = models.DateTimeField(_("taken in"), auto_now_add=True)

    class Meta:
        verbose_name = _("repair request")
        verbose_name_plural = _("repair requests")

    def __str__(self):
        return self.form_number

    def get_documents_display(self):
        labels = dict(self.Document.choices)
        return [labels.get(d, d) for d in self.documents]

    @property
    def pickup_locked(self):
        return self.pickup_attempts >= settings.PICKUP_CODE_MAX_ATTEMPTS


class NetworkTest(models.Model):
    """One network-test attempt; every attempt is kept, passed or failed."""

    ticket = models.ForeignKey(FaultTicket, on_delete=models.CASCADE, related_name="network_tests")
    passed = models.BooleanField(_("passed"))
    details = models.TextField(_("details"), blank=True)
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("tested at"), auto_now_add=True)

    class Meta:
        verbose_name = _("network test")
        verbose_name_plural = _("network tests")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self):
        return f"{self.ticket_id} {'pass' if self.passed else 'fail'}"


class TicketPartQuerySet(models.QuerySet):
    """A ticket's events, comments and files: those of the tickets the user may see (the visibility
    rule), and for a merchant only the public ones."""

    def visible_to(self, user):
        tickets = FaultTicket.objects.visible_to(user)
        # Staff who see every ticket need no subquery (a terminal's timeline reads its events so).
        qs = self.filter(ticket__in=tickets) if tickets.query.has_filters() else self
        return qs if user.is_staff_role else qs.filter(is_public=True)


class TicketEvent(models.Model):
    """One line of a ticket's timeline, written in the same transaction as the change."""

    ticket = models.ForeignKey(FaultTicket, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=FaultTicket.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=FaultTicket.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = TicketPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self):
        return f"{self.ticket_id}: {self.from_status} → {self.to_status}"

    @property
    def actor_name(self):
        return self.actor.display_name if self.actor_id else _("System")


class TicketComment(models.Model):
    ticket = models.ForeignKey(FaultTicket, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(_("comment"), max_length=4000)
    is_public = models.BooleanField(_("visible to the merchant"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TicketPartQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self):
        return f"{self.ticket_id}: {self.body[:30]}"


class TicketAttachment(models.Model):
    ticket = models.ForeignKey(FaultTicket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=UploadTo("ticket-files", owner="ticket_id"))
    content_type = models.CharField(max_length=100)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size"))
    is_public = models.BooleanField(_("visible to the merchant"), default=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TicketPartQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self):
        return self.original_name


class SatisfactionQuerySet(MerchantOwnedQuerySet):
    merchant_lookup = "ticket__merchant_id"
    branch_lookup = "ticket__branch_id"


class Satisfaction(models.Model):
    """The merchant's rating of a finished repair (the reports show it by branch)."""

    ticket = models.OneToOneField(
        FaultTicket, on_delete=models.CASCADE, related_name="satisfaction", verbose_name=_("fault ticket")
    )
    rating = models.PositiveSmallIntegerField(
        _("rating"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("rated by")
    )
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    objects = SatisfactionQuerySet.as_manager()

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="satisfaction_rating_1_to_5"),
        ]
        # The report groups the ratings of a period by branch.
        indexes = [models.Index(fields=["created_at"], name="repairs_sat_created_idx")]

    def __str__(self):
        return f"{self.ticket_id}: {self.rating}"


class LoanQuerySet(models.QuerySet):
    def visible_to(self, user):
        """With their ticket: the merchant's own, a branch's engineers theirs, admins all."""
        return self.filter(ticket__in=FaultTicket.objects.visible_to(user))

    def out(self):
        return self.filter(outcome=Loan.Outcome.OUT)


class Loan(models.Model):
    """A loaner terminal lent to the ticket's merchant while its terminal is at the branch
    (repairs.loans); the loaner's pool state is terminals.loaners'."""

    class Outcome(models.TextChoices):
        OUT = "out", _("On loan")
        RETURNED = "returned", _("Returned")
        MISSING = "missing", _("Missing")
        DAMAGED = "damaged", _("Returned damaged")

    ticket = models.ForeignKey(FaultTicket, on_delete=models.PROTECT, related_name="loans")
    loaner = models.ForeignKey("terminals.Terminal", on_delete=models.PROTECT, related_name="loans",
                               verbose_name=_("loaner"))
    merchant = models.ForeignKey("accounts.Merchant", on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey("accounts.Branch", on_delete=models.PROTECT, related_name="+")
    # As checked at the counter when lent, and the UnionPay parameters set up on it for the merchant.
    serial_number = models.CharField(_("serial number"), max_length=40)
    tag_number = models.CharField(_("tag number"), max_length=40)
    tid = models.CharField(_("TID"), max_length=8, blank=True)
    mid = models.CharField(_("MID"), max_length=15, blank=True)
    lent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    lent_at = models.DateTimeField(_("lent"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, default=Outcome.OUT)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    returned_at = models.DateTimeField(_("accounted for"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    objects = LoanQuerySet.as_manager()

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-lent_at", "-pk"]
        constraints = [
            # One loaner per ticket, and a loaner with one merchant at a time.
            models.UniqueConstraint(fields=["ticket"], condition=Q(outcome="out"), name="loan_one_per_ticket"),
            models.UniqueConstraint(fields=["loaner"], condition=Q(outcome="out"), name="loan_one_merchant"),
        ]
        indexes = [
            models.Index(fields=["loaner", "-lent_at"]),
            models.Index(fields=["branch", "outcome"]),
            models.Index(fields=["outcome", "lent_at"]),
        ]

    def __str__(self):
        return f"{self.serial_number} → {self.ticket_id}"

    @property
    def is_out(self):
        return self.outcome == self.Outcome.OUT

    @property
    def days_out(self):
        end = self.returned_at or timezone.now()
        return (end - self.lent_at).days
# --- booked drop-off slots (repairs/dropoff.py) -------------------------------------------------


class DropoffCapacity(models.Model):
    """What a branch publishes for drop-offs: seats per half-hour between its opening and closing
    time, on Chinese working days (repairs.sla.is_workday) that are not one of its closures."""

    branch = models.OneToOneField(
        "accounts.Branch", on_delete=models.CASCADE, related_name="dropoff_capacity", verbose_name=_("branch")
    )
    opens_at = models.TimeField(_("first drop-off"), default="09:00")
    closes_at = models.TimeField(_("drop-offs end"), default="17:00")
    seats = models.PositiveSmallIntegerField(
        _("seats per half-hour"), default=2, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )

    class Meta:
        verbose_name = _("drop-off capacity")
        verbose_name_plural = _("drop-off capacities")

    def __str__(self):
        return f"{self.branch_id}: {self.seats} × {str(self.opens_at)[:5]}–{str(self.closes_at)[:5]}"

    def clean(self):
        from django.core.exceptions import ValidationError

        for name in ("opens_at", "closes_at"):
            value = getattr(self, name)
            if value and (value.minute % 30 or value.second):
                raise ValidationError({name: _("Use a time on the hour or the half-hour.")})
        if self.opens_at and self.closes_at and self.opens_at >= self.closes_at:
            raise ValidationError({"closes_at": _("Drop-offs must end after the first one.")})


class BranchClosure(models.Model):
    """A day a branch takes no drop-offs (besides the public holidays the calendar knows)."""

    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.CASCADE, related_name="closures", verbose_name=_("branch")
    )
    date = models.DateField(_("date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("branch closure")
        verbose_name_plural = _("branch closures")
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["branch", "date"], name="one_closure_per_branch_day")]

    def __str__(self):
        return f"{self.branch_id} {self.date}"


class DropoffBooking(models.Model):
    """A seat at a branch's counter in one half-hour slot, for one ticket sent to that branch."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")

    SLOT_MINUTES = 30

    ticket = models.ForeignKey(
        FaultTicket, on_delete=models.CASCADE, related_name="dropoff_bookings", verbose_name=_("ticket")
    )
    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.PROTECT, related_name="dropoff_bookings", verbose_name=_("branch")
    )
    starts_at = models.DateTimeField(_("drop-off time"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.BOOKED)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("booked by")
    )
    created_at = models.DateTimeField(_("booked"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("drop-off booking")
        verbose_name_plural = _("drop-off bookings")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(status="booked"), name="one_dropoff_booking_per_ticket"
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "status", "starts_at"]),
            models.Index(fields=["status", "starts_at"]),
        ]

    def __str__(self):
        return f"{self.ticket_id} @ {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def ends_at(self):
        from datetime import timedelta

        return self.starts_at + timedelta(minutes=self.SLOT_MINUTES)

    @property
    def is_missed(self):
        """The slot is over and the terminal never reached the counter (the ticket still waits)."""
        return (
            self.status == self.Status.BOOKED
            and self.ends_at <= timezone.now()
            and self.ticket.status == FaultTicket.Status.AWAITING_BRANCH
        )
