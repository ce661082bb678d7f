"""New-terminal applications: a merchant's request for a terminal (new, or replacing an unrepairable
one), its documents, the review record, the assigned terminals and the deposit account.

Every status change goes through `applications.workflow.application_transition`; nothing here
writes a status.
"""

import calendar
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import MerchantOwnedQuerySet
from portal.core.uploads import UploadTo


def add_months(day, months):
    """`day` plus whole calendar months; the 31st becomes the last day of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def fee_terms():
    """The fee plans' terms, from the APPLICATION_* settings (operators tune them)."""
    return {
        "purchase_price": Decimal(settings.APPLICATION_PURCHASE_PRICE),
        "deposit_amount": Decimal(settings.APPLICATION_DEPOSIT_AMOUNT),
        "deposit_target": Decimal(settings.APPLICATION_DEPOSIT_TARGET),
        "deposit_months": int(settings.APPLICATION_DEPOSIT_MONTHS),
    }


class ApplicationQuerySet(MerchantOwnedQuerySet):

    def in_progress(self):
        return self.exclude(status__in=Application.FINAL_STATUSES)


class Application(models.Model):
    class Kind(models.TextChoices):
        NEW = "new", _("New terminal")
        REPLACEMENT = "replacement", _("Replacement")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        NEEDS_INFO = "needs_info", _("Needs information")
        UNDER_REVIEW = "under_review", _("Under review")
        INSPECTION = "inspection", _("Interview and inspection")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CONTRACT_SIGNED = "contract_signed", _("Contract signed")
        DEVICE_ASSIGNED = "device_assigned", _("Device assigned")
        ACTIVATED = "activated", _("Activated")

    class FeePlan(models.TextChoices):
        PURCHASE = "purchase", _("One-off purchase")
        DEPOSIT = "deposit", _("Refundable deposit")
        FREE = "free", _("Free")

    FINAL_STATUSES = (Status.ACTIVATED, Status.REJECTED, Status.WITHDRAWN)
    # The happy path, in order: the stepper on the detail page.
    PATH = (
        Status.DRAFT,
        Status.SUBMITTED,
        Status.UNDER_REVIEW,
        Status.INSPECTION,
        Status.APPROVED,
        Status.CONTRACT_SIGNED,
        Status.DEVICE_ASSIGNED,
        Status.ACTIVATED,
    )

    number = models.CharField(_("application number"), max_length=20, unique=True, editable=False)
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.PROTECT, related_name="applications", verbose_name=_("merchant")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.NEW)
    ticket = models.ForeignKey(
        "repairs.FaultTicket",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("fault ticket replaced"),
    )
    channel = models.ForeignKey(
        "accounts.Channel", on_delete=models.PROTECT, related_name="applications", verbose_name=_("channel")
    )
    quantity = models.PositiveSmallIntegerField(
        _("quantity"), default=1, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    fee_plan = models.CharField(_("fee plan"), max_length=10, choices=FeePlan.choices, default=FeePlan.PURCHASE)
    # The plan's terms as they were when the plan was fixed (at approval); settings may change later.
    fee_amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2, default=Decimal("0"))
    deposit_target = models.DecimalField(
        _("volume target for the refund (yuan)"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    deposit_months = models.PositiveSmallIntegerField(_("months to reach the target"), null=True, blank=True)
    remarks = models.TextField(_("remarks"), max_length=2000, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_applications",
        verbose_name=_("reviewer"),
    )
    # The review record.
    decision_reason = models.TextField(_("reason"), blank=True)
    interview_date = models.DateField(_("interview date"), null=True, blank=True)
    interview_notes = models.TextField(_("interview notes"), blank=True)
    inspection_date = models.DateField(_("on-site inspection date"), null=True, blank=True)
    inspection_notes = models.TextField(_("inspection notes"), blank=True)
    contract_number = models.CharField(_("contract number"), max_length=40, blank=True)
    contract_signed_on = models.DateField(_("contract signed on"), null=True, blank=True)
    training_date = models.DateField(_("operator training date"), null=True, blank=True)
    training_notes = models.TextField(_("operator training"), blank=True)
    activated_on = models.DateField(_("service activated on"), null=True, blank=True)
    activation_notes = models.TextField(_("activation notes"), blank=True)
    terminals = models.ManyToManyField(
        "terminals.Terminal",
        through="ApplicationTerminal",
        related_name="applications",
        verbose_name=_("assigned terminals"),
        blank=True,
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True, editable=False)
    status_changed_at = models.DateTimeField(_("status changed"), default=timezone.now, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The review queue: oldest first within a status, filtered by channel and kind.
            models.Index(fields=["status", "submitted_at", "id"]),
            models.Index(fields=["channel", "status"]),
            models.Index(fields=["kind", "status"]),
            models.Index(fields=["merchant", "-created_at"]),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("applications:detail", args=[self.number])

    @property
    def is_final(self):
        return self.status in self.FINAL_STATUSES

    @property
    def old_terminal(self):
        return self.ticket.terminal if self.ticket_id else None

    def plan_terms(self):
        """This application's plan terms, as fixed when the plan was chosen (or changed at approval)."""
        return {"amount": self.fee_amount, "target": self.deposit_target, "months": self.deposit_months}

    def fix_plan(self, fee_plan):
        """Choose `fee_plan` and copy its current terms from settings onto the application."""
        self.fee_plan = fee_plan
        terms = plan_terms(fee_plan)
        self.fee_amount, self.deposit_target, self.deposit_months = terms["amount"], terms["target"], terms["months"]


def plan_terms(fee_plan):
    """The current terms of a fee plan (amount; for a deposit, the refund target and months)."""
    terms = fee_terms()
    if fee_plan == Application.FeePlan.PURCHASE:
        return {"amount": terms["purchase_price"], "target": None, "months": None}
    if fee_plan == Application.FeePlan.DEPOSIT:
        return {"amount": terms["deposit_amount"], "target": terms["deposit_target"], "months": terms["deposit_months"]}
    return {"amount": Decimal("0"), "target": None, "months": None}


class ApplicationTerminal(models.Model):
    """A terminal assigned from stock to an application (device_assigned)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="assignments")
    terminal = models.ForeignKey("terminals.Terminal", on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("assigned terminal")
        verbose_name_plural = _("assigned terminals")
        constraints = [
            # A terminal is issued once, to one application (no cross-use).
            models.UniqueConstraint(fields=["terminal"], name="terminal_assigned_once"),
        ]

    def __str__(self):
        return f"{self.application_id} ← {self.terminal_id}"


class ApplicationDocumentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Identity papers: the applicant merchant's users, reviewers and administrators only."""
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_reviewer_or_admin:
            return self
        if not user.is_merchant or user.merchant_id is None:
            return self.none()
        return self.filter(application__merchant_id=user.merchant_id)


class ApplicationDocument(models.Model):
    class Kind(models.TextChoices):
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        LEGAL_REP_ID = "legal_rep_id", _("Legal representative's ID")
        PREMISES_PROOF = "premises_proof", _("Proof of business premises")

    class Verdict(models.TextChoices):
        PENDING = "pending", _("Awaiting check")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("document"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=UploadTo("application-docs", owner="application_id"))
    content_type = models.CharField(max_length=100)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    verdict = models.CharField(_("check"), max_length=10, choices=Verdict.choices, default=Verdict.PENDING)
    verdict_reason = models.CharField(_("reason"), max_length=500, blank=True)
    verdict_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verdict_at = models.DateTimeField(null=True, blank=True)

    objects = ApplicationDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("application document")
        verbose_name_plural = _("application documents")
        ordering = ["kind", "-uploaded_at", "-pk"]
        indexes = [models.Index(fields=["application", "kind", "-uploaded_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.application_id}"

    def get_absolute_url(self):
        return reverse("applications:document", args=[self.pk])

    @property
    def is_image(self):
        return self.content_type.startswith("image/")


class DocumentAccessLog(models.Model):
    """Each time someone opened a document: who and when (personal data is audited)."""

    document = models.ForeignKey(ApplicationDocument, on_delete=models.CASCADE, related_name="access_log")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    accessed_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("document access")
        verbose_name_plural = _("document access log")
        ordering = ["-accessed_at", "-pk"]
        indexes = [models.Index(fields=["document", "-accessed_at"])]

    def __str__(self):
        return f"{self.document_id} by {self.user_id} at {self.accessed_at:%Y-%m-%d %H:%M}"


class ApplicationEvent(models.Model):
    """One line of an application's timeline, written in the same transaction as the change."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status change")
        DOCUMENT = "document", _("Document")
        RECORD = "record", _("Review record")

    class Action(models.TextChoices):
        # What a non-status line records; its sentence is written in the reader's language.
        UPLOADED = "uploaded", _("Document uploaded")
        VERIFIED = "verified", _("Document verified")
        REJECTED = "rejected", _("Document rejected")
        INSPECTION = "inspection", _("Interview and inspection recorded")
        DEREGISTRATION = "deregistration", _("Old terminal deregistered")
        REFUND = "refund", _("Deposit refunded")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STATUS)
    action = models.CharField(max_length=16, choices=Action.choices, blank=True)
    # The document kind (uploaded/verified/rejected) or the deregistration method.
    subject = models.CharField(max_length=20, blank=True)
    from_status = models.CharField(max_length=20, choices=Application.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Application.Status.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    # Internal lines (reviewers' inspection notes) are never shown to the merchant.
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("application event")
        verbose_name_plural = _("application events")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["application", "created_at"])]

    def __str__(self):
        return f"{self.application_id}: {self.from_status} → {self.to_status}"

    @property
    def actor_name(self):
        return self.actor.display_name if self.actor_id else _("System")

    @property
    def summary(self):
        """The line's sentence in the current language ("" for a status change)."""
        from terminals.models import Deregistration

        if self.action in (self.Action.UPLOADED, self.Action.VERIFIED, self.Action.REJECTED):
            labels = dict(ApplicationDocument.Kind.choices)
            document = labels.get(self.subject, self.subject)
            return {
                self.Action.UPLOADED: _("%(document)s uploaded."),
                self.Action.VERIFIED: _("%(document)s verified."),
                self.Action.REJECTED: _("%(document)s rejected."),
            }[self.action] % {"document": document}
        if self.action == self.Action.INSPECTION:
            return _("Interview and on-site inspection recorded.")
        if self.action == self.Action.DEREGISTRATION:
            method = dict(Deregistration.Method.choices).get(self.subject, self.subject)
            return _("Old terminal: %(method)s.") % {"method": method}
        if self.action == self.Action.REFUND:
            return _("Deposit refunded.")
        return ""


class DepositAccountQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(application__in=Application.objects.visible_to(user))


class DepositAccount(models.Model):
    """The refundable deposit of an activated deposit-plan application."""

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="deposit")
    amount = models.DecimalField(_("deposit (yuan)"), max_digits=10, decimal_places=2)
    target = models.DecimalField(_("volume target (yuan)"), max_digits=14, decimal_places=2)
    started_on = models.DateField(_("counted from"))
    deadline = models.DateField(_("deadline"))
    eligible_on = models.DateField(_("refund eligible since"), null=True, blank=True)
    refunded = models.BooleanField(_("refunded"), default=False)
    refunded_at = models.DateTimeField(_("refunded at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DepositAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("deposit account")
        verbose_name_plural = _("deposit accounts")
        indexes = [models.Index(fields=["refunded", "deadline"])]

    def __str__(self):
        return f"{self.application_id}: {self.amount}"


class MonthlyVolumeQuerySet(models.QuerySet):
    def visible_to(self, user):
        from terminals.models import Terminal

        return self.filter(terminal__in=Terminal.objects.visible_to(user))


class MonthlyVolume(models.Model):
    """Card volume a terminal processed in one calendar month (recorded by staff or the API)."""

    terminal = models.ForeignKey("terminals.Terminal", on_delete=models.PROTECT, related_name="monthly_volumes")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    amount = models.DecimalField(
        _("card volume (yuan)"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = MonthlyVolumeQuerySet.as_manager()

    class Meta:
        verbose_name = _("monthly card volume")
        verbose_name_plural = _("monthly card volumes")
        ordering = ["terminal", "month"]
        constraints = [
            models.UniqueConstraint(fields=["terminal", "month"], name="one_volume_per_terminal_month"),
        ]

    def __str__(self):
        return f"{self.terminal_id} {self.month:%Y-%m}: {self.amount}"
