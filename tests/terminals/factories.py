"""Terminal test factories beyond the shared ones (tests/factories.py: TerminalFactory, ActiveTerminalFactory)."""

import factory
from django.utils import timezone

from terminals.models import MaintenanceRecord
from tests.factories import ActiveTerminalFactory, UserFactory


class MaintenanceRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaintenanceRecord

    terminal = factory.SubFactory(ActiveTerminalFactory)
    kind = MaintenanceRecord.Kind.CLEANING
    done_by = factory.SubFactory(UserFactory)
    done_at = factory.LazyFunction(timezone.now)
