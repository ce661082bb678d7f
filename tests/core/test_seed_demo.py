import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from portal.accounts.models import Branch, Channel, User

pytestmark = pytest.mark.django_db


def test_it_creates_the_demo_users_and_is_idempotent():
    call_command("seed_demo")
    counts = (User.objects.count(), Branch.objects.count(), Channel.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Branch.objects.count(), Channel.objects.count()) == counts
    names = set(User.objects.values_list("username", flat=True))
    assert {"merchant", "merchant2", "agent", "engineer", "reviewer", "admin"} <= names
    assert set(Branch.objects.values_list("code", flat=True)) >= {"BR001", "BR002", "BR003"}
    assert Channel.objects.filter(code="BANK").exists()
    assert Channel.objects.filter(kind=Channel.Kind.PAYMENT_COMPANY).exists()
    m1, m2 = User.objects.get(username="merchant"), User.objects.get(username="merchant2")
    assert m1.merchant_id != m2.merchant_id
    assert User.objects.get(username="engineer").branch.code == "BR001"
    request = RequestFactory().post("/accounts/login/")
    assert authenticate(request, username="reviewer", password="demo-pass-2026") is not None


def test_it_refuses_to_run_in_production(settings):
    from django.core.management.base import CommandError

    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
