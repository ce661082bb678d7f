import pytest
from django.core.management import call_command

from terminals.models import MaintenanceRecord, Terminal, validate_mid, validate_tid

pytestmark = pytest.mark.django_db


def test_it_seeds_the_demo_terminals_idempotently():
    call_command("seed_demo")
    counts = (Terminal.objects.count(), MaintenanceRecord.objects.count())
    call_command("seed_demo")
    assert (Terminal.objects.count(), MaintenanceRecord.objects.count()) == counts
    for username in ("merchant", "merchant2"):
        active = Terminal.objects.filter(merchant__users__username=username, status="active")
        assert active.count() >= 2
        for t in active.exclude(tid=""):
            validate_tid(t.tid)
            validate_mid(t.mid)
    for code in ("BANK", "YINXIN"):
        assert Terminal.objects.filter(channel__code=code, status="in_stock", merchant=None).count() >= 5
    assert MaintenanceRecord.objects.filter(terminal__merchant__users__username="merchant").exists()
    assert Terminal.objects.filter(model__in=["PAX A920", "Newland SP630", "Ingenico Move/5000F"]).exists()
