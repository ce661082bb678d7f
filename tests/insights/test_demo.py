import pytest
from django.core.management import call_command

from repairs.models import Satisfaction

pytestmark = pytest.mark.django_db


def test_it_seeds_demo_ratings_once():
    call_command("seed_demo")
    count = Satisfaction.objects.count()
    assert count >= 1  # the demo merchant's remotely resolved repair is rated
    call_command("seed_demo")
    assert Satisfaction.objects.count() == count
