"""The terminals' job of Celery beat: the daily care reminders (thin task in terminals/tasks.py).

Safe to run again: its notifications carry an event key per terminal and day, so a second run the
same day notifies nobody twice.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications.services import notify
from portal.accounts.models import Role, User
from terminals.models import MaintenanceRecord, Terminal, care_due

CLEANING, PAPER_ROLL = MaintenanceRecord.Kind.CLEANING, MaintenanceRecord.Kind.PAPER_ROLL


def maintenance_reminders(today=None):
    """Remind each merchant's users of the daily cleaning of every terminal in service, and of the
    paper roll when it is due (terminals.models.care_due); once per terminal per day."""
    today = today or timezone.localdate()
    terminals = (
        Terminal.objects.in_service().filter(merchant__isnull=False).with_care_dates().order_by("pk")
    )
    users_by_merchant = {}
    for user in User.objects.filter(role=Role.MERCHANT, is_active=True, merchant__isnull=False):
        users_by_merchant.setdefault(user.merchant_id, []).append(user)
    count = 0
    for terminal in terminals.iterator(chunk_size=500):
        recipients = users_by_merchant.get(terminal.merchant_id)
        if not recipients:
            continue
        cleaning_due = care_due(CLEANING, terminal.last_cleaning_at, today)
        paper_due = care_due(PAPER_ROLL, terminal.last_paper_roll_at, today)
        if not (cleaning_due or paper_due):
            continue
        last_paper = terminal.last_paper_roll_at
        with transaction.atomic():
            written = notify(
                kind="maintenance.reminder",
                event_key=f"maintenance:{terminal.pk}:{today.isoformat()}",
                recipients=recipients,
                context={
                    "serial_number": terminal.serial_number,
                    "tag_number": terminal.tag_number,
                    "cleaning_due": cleaning_due,
                    "paper_roll_due": paper_due,
                    "paper_roll_days": settings.PAPER_ROLL_DAYS,
                    "last_paper_roll": timezone.localdate(last_paper).isoformat() if last_paper else "",
                },
                url=terminal.get_absolute_url(),
            )
        count += bool(written)
    return count
