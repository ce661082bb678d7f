"""POS terminals, their timeline, care records and deregistration."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import MerchantOwnedQuerySet
from portal.core.uploads import UploadTo

validate_tid = RegexValidator(
    r"^[A-Za-z0-9]{8}$", _("A UnionPay terminal ID (TID) has exactly 8 letters or digits.")
)
validate_mid = RegexValidator(r"^[0-9]{15}$", _("A UnionPay merchant ID (MID) has exactly 15 digits."))
# Serial and tag numbers as printed on the device and its asset label: letters, digits, and . _ -
validate_device_number = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{2,39}$",
    _("Use 3 to 40 letters, digits, dots, dashes or underscores, starting with a letter or digit."),
)



def care_due(kind, last, today=None):
    """The care rule, the one the terminal page, the merchant's dashboard and the daily reminders
    all follow: a cleaning is due once CLEANING_DAYS days (daily) and a paper roll once
    PAPER_ROLL_DAYS days have begun since the last one (China time), or when none is recorded."""
    days = settings.CLEANING_DAYS if kind == MaintenanceRecord.Kind.CLEANING else settings.PAPER_ROLL_DAYS
    today = today or timezone.localdate()
    return last is None or timezone.localdate(last) <= today - timedelta(days=days)


class TerminalQuerySet(MerchantOwnedQuerySet):

    def with_related(self):
        """Everything a list row shows, in the same query."""
        return self.select_related("channel", "merchant", "home_branch")

    def in_stock(self):
        return self.filter(status=Terminal.Status.IN_STOCK)

    def in_service(self):
        return self.filter(status__in=Terminal.IN_SERVICE_STATUSES)

    def for_merchant(self, merchant):
        return self.filter(merchant=merchant)

    def search(self, q):
        """Serial or tag number (any part), TID or MID (exact), or merchant name or credit code."""
        q = (q or "").strip()
        if not q:
            return self
        return self.filter(
            Q(serial_number__icontains=q)
            | Q(tag_number__icontains=q)
            | Q(tid__iexact=q)
            | Q(mid=q)
            | Q(merchant__name__icontains=q)
            | Q(merchant__credit_code__iexact=q)
        )

    def with_care_dates(self):
        """Annotate `last_cleaning_at` and `last_paper_roll_at` (one subquery each, no extra query)."""
        def latest(kind):
            return Subquery(
                MaintenanceRecord.objects.filter(terminal=OuterRef("pk"), kind=kind)
                .order_by("-done_at")
                .values("done_at")[:1]
            )

        return self.annotate(
            last_cleaning_at=latest(MaintenanceRecord.Kind.CLEANING),
            last_paper_roll_at=latest(MaintenanceRecord.Kind.PAPER_ROLL),
        )


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

    class LoanerState(models.TextChoices):
        # Blank: not a loaner. A loaner is the bank's, kept in a branch's pool, never issued for good.
        NONE = "", _("Not a loaner")
        AVAILABLE = "available", _("In the pool")
        ON_LOAN = "on_loan", _("On loan")
        INSPECTION = "inspection", _("Awaiting cleaning and inspection")
        MISSING = "missing", _("Missing")
        DAMAGED = "damaged", _("Damaged")

    serial_number = models.CharField(
        _("terminal number (serial)"), max_length=40, unique=True, validators=[validate_device_number]
    )
    tag_number = models.CharField(
        _("tag number"), max_length=40, unique=True, validators=[validate_device_number]
    )
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
    loaner_state = models.CharField(
        _("loaner"), max_length=12, choices=LoanerState.choices, blank=True, default="", db_default="",
        editable=False
    )
    # While on loan: the merchant that has it (for one repair only; terminals.loaners).
    loaned_to = models.ForeignKey(
        "accounts.Merchant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loaners",
        verbose_name=_("on loan to"),
        editable=False,
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
            models.Index(
                fields=["home_branch", "loaner_state"], name="terminal_loaner_pool",
                condition=~Q(loaner_state=""),
            ),
            models.Index(fields=["loaned_to"], name="terminal_loaned_to", condition=Q(loaned_to__isnull=False)),
        ]

    # With a merchant and able to take payments (or being repaired to take them again).
    IN_SERVICE_STATUSES = ("active", "faulty", "in_repair")
    # Where a merchant has the terminal in hand and looks after it.
    WITH_MERCHANT_STATUSES = ("pending_activation", "active", "faulty", "in_repair")
    # The end of its life with a merchant: only staff act on it from here.
    FINAL_STATUSES = ("deregistered", "destroyed")
    STATUS_BADGES = {
        "in_stock": "secondary",
        "pending_activation": "info",
        "active": "success",
        "faulty": "danger",
        "in_repair": "warning",
        "retired": "dark",
        "deregistered": "light",
        "destroyed": "dark",
    }

    def __str__(self):
        return f"{self.serial_number} ({self.model})"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("terminals:detail", args=[self.serial_number])

    @property
    def is_loaner(self):
        return bool(self.loaner_state)

    @property
    def is_in_service(self):
        return self.status in self.IN_SERVICE_STATUSES

    @property
    def is_with_merchant(self):
        return self.status in self.WITH_MERCHANT_STATUSES

    @property
    def status_badge(self):
        """The Bootstrap colour of this status's badge."""
        return self.STATUS_BADGES.get(self.status, "secondary")

    def clean(self):
        self.serial_number = (self.serial_number or "").strip()
        self.tag_number = (self.tag_number or "").strip()
        self.tid = (self.tid or "").strip().upper()
        self.mid = (self.mid or "").strip()
        errors = {}
        if self.pk:
            # No cross-use: the owning merchant changes only through terminals.services.
            stored = Terminal.objects.filter(pk=self.pk).values_list("merchant_id", flat=True).first()
            if stored != self.merchant_id:
                errors["merchant"] = _(
                    "A terminal belongs to one merchant: it reaches another only after deregistration "
                    "and re-issue by staff."
                )
        if errors:
            raise ValidationError(errors)


class _TerminalPartQuerySet(models.QuerySet):
    """Rows hanging off a terminal: visible with their terminal."""

    def visible_to(self, user):
        return self.filter(terminal__in=Terminal.objects.visible_to(user).values("pk"))


class TerminalEventQuerySet(_TerminalPartQuerySet):
    def visible_to(self, user):
        qs = super().visible_to(user)
        if user.is_authenticated and not user.is_staff_role:
            # A re-issued terminal: a merchant sees its own period and the stock history, never
            # the previous owner's.
            qs = qs.filter(Q(merchant_id=user.merchant_id) | Q(merchant__isnull=True))
        return qs


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

    objects = TerminalEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["terminal", "-created_at"])]

    def __str__(self):
        return f"{self.terminal_id}: {self.from_status} → {self.to_status}"


class DeregistrationQuerySet(TerminalEventQuerySet):
    """The same rule as events: a merchant sees the records of its own period with the terminal."""


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

    objects = DeregistrationQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("deregistration record")
        verbose_name_plural = _("deregistration records")

    def __str__(self):
        return f"{self.get_method_display()} {self.certificate_number}"


class MaintenanceRecordQuerySet(_TerminalPartQuerySet):
    def visible_to(self, user):
        qs = super().visible_to(user)
        if user.is_authenticated and not user.is_staff_role:
            from portal.accounts.models import STAFF_ROLES

            qs = qs.filter(Q(done_by__merchant_id=user.merchant_id) | Q(done_by__role__in=STAFF_ROLES))
        return qs


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

    objects = MaintenanceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("maintenance record")
        verbose_name_plural = _("maintenance records")
        ordering = ["-done_at", "-pk"]
        indexes = [models.Index(fields=["terminal", "kind", "-done_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.done_at:%Y-%m-%d}"


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Inventory imports are staff business; merchants never see them."""
        if not user.is_authenticated or not user.is_staff_role:
            return self.none()
        return self


class ImportJob(models.Model):
    """One upload of a bank's terminal inventory, processed by a Celery task in batches."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    file = models.FileField(_("file"), upload_to=UploadTo("terminal-imports"))
    original_name = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    size = models.PositiveIntegerField(_("size"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(_("rows"), default=0)
    done = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("imported"), default=0)
    present_count = models.PositiveIntegerField(_("already present"), default=0)
    error_count = models.PositiveIntegerField(_("rejected"), default=0)
    # [{"line": 7, "serial_number": "...", "reason": "..."}] for every rejected row, in file order.
    errors = models.JSONField(_("rejected rows"), default=list, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("terminal import")
        verbose_name_plural = _("terminal imports")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["-created_at"])]

    def __str__(self):
        return f"#{self.pk} {self.original_name}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("terminals:import_detail", args=[self.pk])

    @property
    def is_finished(self):
        return self.status in {self.Status.DONE, self.Status.FAILED}

    @property
    def percent(self):
        if self.is_finished:
            return 100
        if not self.total:
            return 0
        return min(100, int(self.done * 100 / self.total))


# --- Health telemetry from the bank's terminal-management systems (docs/telemetry.md) ---------


def _new_secret():
    import secrets

    return secrets.token_hex(32)


class TelemetrySource(models.Model):
    """A terminal-management system (PAXSTORE, VHQ, …) allowed to send signed health reports."""

    key = models.SlugField(
        _("key"), max_length=40, unique=True, help_text=_("Sent as the X-Telemetry-Source header.")
    )
    name = models.CharField(_("name"), max_length=100)
    secret = models.CharField(
        _("signing secret"), max_length=128, default=_new_secret,
        help_text=_("Shared with the source: it signs each batch with HMAC-SHA256."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("telemetry source")
        verbose_name_plural = _("telemetry sources")
        ordering = ["key"]

    def __str__(self):
        return f"{self.name} ({self.key})"


class TelemetrySignature(models.Model):
    """A batch signature already accepted: the same one again within the window is a replay."""

    source = models.ForeignKey(TelemetrySource, on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "signature"], name="telemetry_signature_once")]
        indexes = [models.Index(fields=["seen_at"])]

    def __str__(self):
        return self.signature


class ErrorCode(models.Model):
    """What a terminal's error code means and the remote fix that usually clears it (bank-editable)."""

    class Severity(models.TextChoices):
        INFO = "info", _("Information")
        WARNING = "warning", _("Warning")
        SERIOUS = "serious", _("Serious")

    code = models.CharField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=120)
    explanation = models.TextField(_("explanation"), blank=True)
    suggested_fix = models.TextField(
        _("suggested remote fix"), blank=True,
        help_text=_("Offered to the agent during remote diagnosis as the resolution note."),
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, default=Severity.WARNING)

    class Meta:
        verbose_name = _("error code")
        verbose_name_plural = _("error codes")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.title}"


class HealthReport(models.Model):
    """One health report of one terminal at one moment, as its TMS sent it (kept TELEMETRY_RAW_DAYS)."""

    class Network(models.TextChoices):
        CELLULAR = "cellular", _("Mobile network")
        WIFI = "wifi", _("Wi-Fi")
        ETHERNET = "ethernet", _("Ethernet")
        NONE = "none", _("No network")

    class Part(models.TextChoices):
        OK = "ok", _("OK")
        FAULT = "fault", _("Fault")
        UNKNOWN = "unknown", _("Unknown")

    # No index of their own: the unique constraint leads with source, the timeline index with terminal
    # (every index is paid for on each of the many inserts).
    source = models.ForeignKey(TelemetrySource, on_delete=models.PROTECT, related_name="+", db_index=False)
    terminal = models.ForeignKey(
        Terminal, on_delete=models.CASCADE, related_name="health_reports", db_index=False
    )
    reported_at = models.DateTimeField(_("reported"))
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    online = models.BooleanField(_("online"))
    software_version = models.CharField(_("software version"), max_length=40, blank=True)
    firmware_version = models.CharField(_("firmware version"), max_length=40, blank=True)
    signal_strength = models.SmallIntegerField(_("signal strength (%)"), null=True, blank=True)
    network_type = models.CharField(_("network"), max_length=10, choices=Network.choices, blank=True)
    battery_percent = models.SmallIntegerField(_("battery (%)"), null=True, blank=True)
    on_mains = models.BooleanField(_("on mains power"), null=True)
    paper_out = models.BooleanField(_("paper out"), default=False)
    printer_status = models.CharField(_("printer"), max_length=10, choices=Part.choices, default=Part.UNKNOWN)
    card_reader_status = models.CharField(
        _("card reader"), max_length=10, choices=Part.choices, default=Part.UNKNOWN
    )
    # The first error code (what the reports and the "likely faulty" queue count) and every error.
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    errors = models.JSONField(_("errors"), default=list, blank=True)

    class Meta:
        verbose_name = _("health report")
        verbose_name_plural = _("health reports")
        constraints = [
            models.UniqueConstraint(fields=["source", "terminal", "reported_at"], name="health_report_once")
        ]
        indexes = [
            models.Index(fields=["terminal", "-reported_at"]),
            models.Index(fields=["reported_at"]),
        ]

    def __str__(self):
        return f"{self.terminal_id} @ {self.reported_at:%Y-%m-%d %H:%M}"


class HealthDailySummary(models.Model):
    """One terminal's health over one China day, kept after its raw reports are gone."""

    terminal = models.ForeignKey(Terminal, on_delete=models.CASCADE, related_name="health_days")
    day = models.DateField(_("day"))
    reports = models.PositiveIntegerField(_("reports"), default=0)
    offline_reports = models.PositiveIntegerField(_("offline reports"), default=0)
    error_reports = models.PositiveIntegerField(_("reports with errors"), default=0)
    error_counts = models.JSONField(_("errors by code"), default=dict, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    firmware_version = models.CharField(_("firmware version"), max_length=40, blank=True)
    software_version = models.CharField(_("software version"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("daily health summary")
        verbose_name_plural = _("daily health summaries")
        constraints = [models.UniqueConstraint(fields=["terminal", "day"], name="health_day_once")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.terminal_id} {self.day}"
