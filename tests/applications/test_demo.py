import pytest
from django.core.management import call_command

from applications.models import Application

pytestmark = pytest.mark.django_db


def test_the_demo_merchant_has_one_application_in_progress_and_seeding_is_idempotent():
    call_command("seed_demo")
    call_command("seed_demo")
    apps = Application.objects.filter(merchant__users__username="merchant")
    assert apps.count() == 1
    app = apps.get()
    assert app.status == "under_review" and app.documents.count() == 3
