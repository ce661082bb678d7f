"""People and organisations: users with a role, merchants, branches, channels, merchant documents."""


from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.accounts.validators import validate_phone, validate_uscc
from portal.core.uploads import UploadTo


class Role(models.TextChoices):
    MERCHANT = "merchant", _("Merchant")
    AGENT = "agent", _("Customer-service agent")
    ENGINEER = "engineer", _("Branch engineer")
    REVIEWER = "reviewer", _("Reviewer")
    ADMIN = "admin", _("Administrator")


STAFF_ROLES = (Role.AGENT, Role.ENGINEER, Role.REVIEWER, Role.ADMIN)
# Who reviews applications and manages the terminal inventory, the reports and the delivery log.
REVIEWER_ROLES = (Role.REVIEWER, Role.ADMIN)


class UserQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Staff see every user; a merchant user sees the users of its own merchant."""
        if not user.is_authenticated:
            return self.none()
        if user.is_staff_role:
            return self
        return self.filter(merchant_id=user.merchant_id, merchant__isnull=False)


class PortalUserManager(UserManager.from_queryset(UserQuerySet)):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MERCHANT)
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    language = models.CharField(
        _("preferred language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans"
    )
    merchant = models.ForeignKey(
        "accounts.Merchant",
        verbose_name=_("merchant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    branch = models.ForeignKey(
        "accounts.Branch",
        verbose_name=_("branch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="engineers",
    )
    is_merchant_owner = models.BooleanField(_("merchant owner"), default=False)

    objects = PortalUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="merchant") | Q(merchant__isnull=False) | Q(is_superuser=True),
                name="merchant_user_has_merchant",
            ),
            models.CheckConstraint(
                condition=~Q(role="engineer") | Q(branch__isnull=False),
                name="engineer_has_branch",
            ),
        ]

    @property
    def is_merchant(self):
        return self.role == Role.MERCHANT

    @property
    def is_agent(self):
        return self.role == Role.AGENT

    @property
    def is_engineer(self):
        return self.role == Role.ENGINEER

    @property
    def is_reviewer(self):
        return self.role == Role.REVIEWER

    @property
    def is_admin_role(self):
        return self.role == Role.ADMIN or self.is_superuser

    @property
    def is_reviewer_or_admin(self):
        """Reviews applications, manages the terminal inventory, reads reports and the delivery log."""
        return self.role in REVIEWER_ROLES or self.is_superuser

    @property
    def is_staff_role(self):
        """Bank staff of any kind (agent, engineer, reviewer, admin)."""
        return self.role in STAFF_ROLES or self.is_superuser

    def get_full_name(self):
        # Chinese names are written family name first, with no space: 王芳, not "芳 王".
        first, last = self.first_name.strip(), self.last_name.strip()
        if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
            return f"{last}{first}"
        return super().get_full_name()

    @property
    def display_name(self):
        return self.get_full_name() or self.username


class MerchantOwnedQuerySet(models.QuerySet):
    """The one visibility rule: staff see every row; a merchant user only its own merchant's; and
    for rows of a branch's work (a fault ticket and what hangs off it), an engineer only its own
    branch's (a ticket sent to a branch is that branch's from the moment it awaits the visit).

    Subclasses name the path to the owning merchant's id in `merchant_lookup`, and to the branch's
    id in `branch_lookup` when the rows are a branch's work."""

    merchant_lookup = "merchant_id"
    branch_lookup = None

    def visible_to(self, user):
        if user is None or not user.is_authenticated:
            return self.none()
        if self.branch_lookup and user.is_engineer and not user.is_superuser:
            if user.branch_id is None:
                return self.none()
            return self.filter(**{self.branch_lookup: user.branch_id})
        if user.is_staff_role:
            return self
        if user.merchant_id is None:
            return self.none()
        return self.filter(**{self.merchant_lookup: user.merchant_id})


class VisibleToAllStaffQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self if user.is_authenticated else self.none()


class MerchantQuerySet(MerchantOwnedQuerySet):
    merchant_lookup = "pk"

    def search(self, q):
        q = (q or "").strip()
        if not q:
            return self
        return self.filter(
            Q(name__icontains=q)
            | Q(credit_code__iexact=q)
            | Q(contact_phone__contains=q)
            | Q(contact_name__icontains=q)
        )


class Merchant(models.Model):
    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_phone = models.CharField(_("contact phone"), max_length=20, validators=[validate_phone])
    address = models.CharField(_("address"), max_length=300)
    city = models.CharField(_("city"), max_length=50, db_index=True)
    opens_at = models.TimeField(_("opens at"), default="09:00")
    closes_at = models.TimeField(_("closes at"), default="21:00")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = MerchantQuerySet.as_manager()

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["name"]), models.Index(fields=["contact_phone"])]

    def __str__(self):
        return self.name

    @property
    def business_hours(self):
        return f"{self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Branch(models.Model):
    code = models.CharField(_("code"), max_length=10, unique=True)
    name = models.CharField(_("name"), max_length=200)
    city = models.CharField(_("city"), max_length=50, db_index=True)
    address = models.CharField(_("address"), max_length=300)
    phone = models.CharField(_("phone"), max_length=20, validators=[validate_phone])
    hours = models.CharField(_("opening hours"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    objects = VisibleToAllStaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Channel(models.Model):
    class Kind(models.TextChoices):
        BANK = "bank", _("The bank itself")
        PAYMENT_COMPANY = "payment_company", _("Licensed payment company")

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    licence_number = models.CharField(_("payment licence number"), max_length=50, blank=True)
    phone = models.CharField(_("service phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = VisibleToAllStaffQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        ordering = ["code"]

    def __str__(self):
        return self.name


class MerchantDocumentQuerySet(MerchantOwnedQuerySet):
    pass


class MerchantDocument(models.Model):
    """A document the merchant keeps on file to show at the counter (the call checklist)."""

    class Kind(models.TextChoices):
        ACCOUNT_OPENING_PERMIT = "account_opening_permit", _("Account-opening permit")
        BUSINESS_LICENCE = "business_licence", _("Business licence")
        OPERATOR_ID = "operator_id", _("Operator's ID")

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="documents", verbose_name=_("merchant")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=UploadTo("merchant-docs", owner="merchant_id"))
    content_type = models.CharField(max_length=100)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = MerchantDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("merchant document")
        verbose_name_plural = _("merchant documents")
        ordering = ["merchant", "kind", "-uploaded_at"]
        indexes = [models.Index(fields=["merchant", "kind", "-uploaded_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.merchant}"
