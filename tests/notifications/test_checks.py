"""The system checks of the SMS and WeChat settings: mistakes show at start-up, not at the first SMS."""

from notifications.checks import check_providers


def ids(problems):
    return sorted(p.id for p in problems)


def test_it_accepts_the_defaults_and_a_well_formed_provider_setup(settings):
    assert check_providers(None) == []
    settings.SMS_BACKEND = "notifications.sms.AliyunBackend"
    settings.SMS_ACCESS_KEY_ID, settings.SMS_ACCESS_KEY_SECRET, settings.SMS_SIGN_NAME = "id", "secret", "某银行"
    settings.SMS_TEMPLATES = {"ticket.status": {"zh-hans": "SMS_1", "en": "SMS_2"}, "default": "SMS_3"}
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wx1", "s"
    settings.WECHAT_TEMPLATES = {"ticket.status": {"zh-hans": {"id": "T1", "fields": {"thing2": "status"}}},
                                 "default": {"id": "T2"}}
    assert check_providers(None) == []


def test_it_reports_a_provider_without_credentials_or_templates(settings):
    settings.SMS_BACKEND = "notifications.sms.TencentBackend"
    assert ids(check_providers(None)) == ["notifications.E004"] * 4 + ["notifications.E005"]
    settings.SMS_BACKEND = "notifications.sms.NoSuchBackend"
    assert ids(check_providers(None)) == ["notifications.E003"]
    settings.SMS_BACKEND = "notifications.sms.ConsoleBackend"
    settings.WECHAT_APP_ID = "wx1"
    assert ids(check_providers(None)) == ["notifications.E006"]


def test_it_reports_malformed_template_tables(settings):
    settings.SMS_TEMPLATES = {"ticket.status": {"zh-hans": 12}, "tiket.status": "SMS_1", "default": {"fr": "SMS_2"}}
    settings.WECHAT_TEMPLATES = ["T1"]
    assert ids(check_providers(None)) == [
        "notifications.E001", "notifications.E002", "notifications.W001", "notifications.W002"
    ]
