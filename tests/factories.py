"""factory-boy factories shared by every test package."""

import itertools

import factory
from django.utils import timezone

from portal.accounts.models import Branch, Channel, Merchant, Role, User
from portal.accounts.validators import uscc_check_character
from terminals.models import Terminal, TerminalEvent

PASSWORD = "test-pass-2026"
_codes = itertools.count(1)


def make_uscc(n=None):
    n = next(_codes) if n is None else n
    first17 = f"91310000MA{n:07d}"
    return first17 + uscc_check_character(first17)


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"BT{n:03d}")
    name = factory.Sequence(lambda n: f"测试网点{n}")
    city = "上海"
    address = factory.Sequence(lambda n: f"上海市测试路{n}号")
    phone = "021-55550000"
    hours = "9:00–17:00"


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"CH{n:03d}")
    name = factory.Sequence(lambda n: f"渠道{n}")
    kind = Channel.Kind.BANK


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"测试商户{n}")
    credit_code = factory.LazyFunction(make_uscc)
    contact_name = "王五"
    contact_phone = factory.Sequence(lambda n: f"1380000{n:04d}")
    address = "上海市测试路1号"
    city = "上海"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    role = Role.AGENT
    language = "en"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)
    date_joined = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MerchantUserFactory(UserFactory):
    role = Role.MERCHANT
    merchant = factory.SubFactory(MerchantFactory)
    is_merchant_owner = True


class EngineerFactory(UserFactory):
    role = Role.ENGINEER
    branch = factory.SubFactory(BranchFactory)


class ReviewerFactory(UserFactory):
    role = Role.REVIEWER


class AdminFactory(UserFactory):
    role = Role.ADMIN
    is_staff = True
    is_superuser = True


# --- terminals: one factory, used by every test package -------------------------------------
# `TerminalFactory()` is in stock; `ActiveTerminalFactory(merchant=m)` is issued and active (made
# directly, with its registration event, for speed).


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
