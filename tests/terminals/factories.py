"""Terminal factories. `TerminalFactory()` is in stock; `ActiveTerminalFactory(merchant=m)` is
issued and active (made directly, with its events, for speed)."""

import factory
from django.utils import timezone

from terminals.models import MaintenanceRecord, Terminal, TerminalEvent
from tests.factories import ChannelFactory, MerchantFactory, UserFactory


class TerminalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Terminal
        skip_postgeneration_save = True

    serial_number = factory.Sequence(lambda n: f"SN{n:08d}")
    tag_number = factory.Sequence(lambda n: f"TAG-{n:06d}")
    model = "PAX A920"
    manufacturer = "PAX"
    channel = factory.SubFactory(ChannelFactory, code="BANK", name="本行收单")

    @factory.post_generation
    def registered(obj, create, extracted, **kwargs):
        if create:
            TerminalEvent.objects.create(
                terminal=obj, kind=TerminalEvent.Kind.CREATED, to_status=obj.status, merchant=obj.merchant
            )


class ActiveTerminalFactory(TerminalFactory):
    merchant = factory.SubFactory(MerchantFactory)
    status = Terminal.Status.ACTIVE
    tid = factory.Sequence(lambda n: f"T{n:07d}")
    mid = factory.Sequence(lambda n: f"{898310000000000 + n}")
    activated_on = factory.LazyFunction(timezone.localdate)


class MaintenanceRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaintenanceRecord

    terminal = factory.SubFactory(ActiveTerminalFactory)
    kind = MaintenanceRecord.Kind.CLEANING
    done_by = factory.SubFactory(UserFactory)
    done_at = factory.LazyFunction(timezone.now)
