import factory

from notifications.models import Notification, NotificationPreference, WebhookSubscriber
from tests.factories import MerchantUserFactory


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    kind = "ticket.status"
    event_key = factory.Sequence(lambda n: f"test-event:{n}")
    recipient = factory.SubFactory(MerchantUserFactory)
    channel = Notification.Channel.IN_APP
    status = Notification.Status.SENT
    context = factory.LazyFunction(
        lambda: {
            "service_order_no": "SO20261124-0001",
            "terminal": "SN0001",
            "from_status": "reported",
            "to_status": "remote_diagnosis",
        }
    )
    url = "/tickets/SO20261124-0001/"


class WebhookSubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookSubscriber

    name = factory.Sequence(lambda n: f"bank-system-{n}")
    url = "http://127.0.0.1:9/hook"
    secret = "s3cret-for-tests"


class PreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NotificationPreference

    user = factory.SubFactory(MerchantUserFactory)
