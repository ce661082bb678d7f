"""POS terminals, their timeline, care records and deregistration."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

validate_tid = RegexValidator(
    r"^[A-Za-z0-9]{8}$", _("A UnionPay terminal ID (TID) has exactly 8 letters or digits.")
)
validate_mid = RegexValidator(r"^[0-9]{15}$", _("A UnionPay merchant ID (MID) has exactly 15 digits."))


class TerminalQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff see every terminal; a merchant user only its own merchant's."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff_role:
            return self
        if user.merchant_id is None:
            return self.none()
        return self.filter(merchant_id=user.merchant_id)


class Terminal(models.Model):
    class Status(models.TextChoices):
        IN_STOCK = "in_stock", _("In stock")
        PENDING_ACTIVATION = "pending_activation", _("Pending activation")
        ACTIVE = "active", _("Active")
        FAULTY = "faulty", _("Faulty")
        IN_REPAIR = "in_repair", _("In repair")
        RETIRED = "retired", _("Retired")
        DEREGISTERED = "deregistered", _("Deregistered")
        DESTROYED = "destroyed", _("Destroyed")

    serial_number = models.CharField(_("terminal number (serial)"), max_length=40, unique=True)
    tag_number = models.CharField(_("tag number"), max_length=40, unique=True)
    model = models.CharField(_("model"), max_length=60)
    manufacturer = models.CharField(_("manufacturer"), max_length=60)
    channel = models.ForeignKey(
        "accounts.Channel", on_delete=models.PROTECT, related_name="terminals", verbose_name=_("channel")
    )
    merchant = models.ForeignKey(
        "accounts.Merchant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="terminals",
        verbose_name=_("merchant"),
    )
    home_branch = models.ForeignKey(
        "accounts.Branch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="terminals",
        verbose_name=_("home branch"),
    )
    tid = models.CharField(_("TID"), max_length=8, blank=True, validators=[validate_tid])
    mid = models.CharField(_("MID"), max_length=15, blank=True, validators=[validate_mid])
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.IN_STOCK, editable=False
    )
    activated_on = models.DateField(_("activation date"), null=True, blank=True, editable=False)
    retired_on = models.DateField(_("retirement date"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = TerminalQuerySet.as_manager()

    class Meta:
        verbose_name = _("terminal")
        verbose_name_plural = _("terminals")
        ordering = ["serial_number"]
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["merchant", "status"]),
            models.Index(fields=["channel", "status"]),
            models.Index(fields=["home_branch", "status"]),
            models.Index(fields=["model"]),
            models.Index(fields=["tid"]),
            models.Index(fields=["mid"]),
        ]

    def __str__(self):
        return f"{self.serial_number} ({self.model})"

    @property
    def is_in_service(self):
        return self.status in {self.Status.ACTIVE, self.Status.FAULTY, self.Status.IN_REPAIR}


class TerminalEvent(models.Model):
    """One line of a terminal's timeline, written in the same transaction as the change."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Status change")
        CREATED = "created", _("Registered")
        NOTE = "note", _("Note")

    terminal = models.ForeignKey(Terminal, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.STATUS)
    from_status = models.CharField(max_length=20, choices=Terminal.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Terminal.Status.choices, blank=True)
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["terminal", "-created_at"])]

    def __str__(self):
        return f"{self.terminal_id}: {self.from_status} → {self.to_status}"


class Deregistration(models.Model):
    """How and when a terminal left service: the only way its life ends; never undone."""

    class Method(models.TextChoices):
        RETURNED = "returned", _("Returned and deregistered")
        DESTROYED = "destroyed", _("Destroyed")

    # A terminal deregistered (returned) may be re-issued by staff and deregistered again later,
    # so it can have several records over its life; each one is final for its period.
    terminal = models.ForeignKey(Terminal, on_delete=models.PROTECT, related_name="deregistrations")
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    certificate_number = models.CharField(_("certificate number"), max_length=60)
    witness = models.CharField(_("witness"), max_length=100)
    date = models.DateField(_("date"))
    merchant = models.ForeignKey(
        "accounts.Merchant", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("deregistration record")
        verbose_name_plural = _("deregistration records")

    def __str__(self):
        return f"{self.get_method_display()} {self.certificate_number}"


class MaintenanceRecord(models.Model):
    class Kind(models.TextChoices):
        CLEANING = "cleaning", _("Cleaning")
        PAPER_ROLL = "paper_roll", _("Paper-roll change")
        INSPECTION = "inspection", _("Inspection")

    terminal = models.ForeignKey(Terminal, on_delete=models.CASCADE, related_name="maintenance")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    done_at = models.DateTimeField(_("done at"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("maintenance record")
        verbose_name_plural = _("maintenance records")
        ordering = ["-done_at", "-pk"]
        indexes = [models.Index(fields=["terminal", "kind", "-done_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.done_at:%Y-%m-%d}"
