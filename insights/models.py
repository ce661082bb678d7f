"""The merchant's rating of a repair, given when the ticket closes (reports show it by branch)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.accounts.models import MerchantOwnedQuerySet


class SatisfactionQuerySet(MerchantOwnedQuerySet):
    merchant_lookup = "ticket__merchant_id"


class Satisfaction(models.Model):
    ticket = models.OneToOneField(
        "repairs.FaultTicket", on_delete=models.CASCADE, related_name="satisfaction", verbose_name=_("fault ticket")
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
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self):
        return f"{self.ticket_id}: {self.rating}"
