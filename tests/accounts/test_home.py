import pytest
from django.urls import reverse

from tests.factories import MerchantFactory

pytestmark = pytest.mark.django_db


def test_it_shows_the_merchant_its_profile_users_and_checklist(merchant_client, merchant):
    body = merchant_client.get(reverse("home")).content.decode()
    assert merchant.name in body
    assert merchant.credit_code in body
    assert "Account-opening permit" in body
    assert "Business licence" in body
    assert "Operator&#x27;s ID" in body or "Operator's ID" in body


def test_it_shows_staff_the_branches_and_merchant_search(agent_client, branch):
    body = agent_client.get(reverse("home")).content.decode()
    assert branch.name in body
    assert 'action="/accounts/merchants/"' in body


def test_it_renders_in_chinese_for_a_chinese_speaking_user(merchant_client, merchant_user):
    merchant_user.language = "zh-hans"
    merchant_user.save()
    response = merchant_client.get(reverse("home"))
    body = response.content.decode()
    assert '<html lang="zh-hans">' in body
    assert "需备齐的证件" in body
    assert "开户许可证" in body


def test_it_switches_language_and_remembers_it(merchant_client, merchant_user):
    response = merchant_client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302
    merchant_user.refresh_from_db()
    assert merchant_user.language == "zh-hans"
    assert "退出登录" in merchant_client.get("/").content.decode()


def test_it_refuses_an_offsite_next_after_switching_language(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "https://evil.test/"})
    assert response.url == reverse("home")


def test_it_searches_merchants_for_staff(agent_client):
    MerchantFactory(name="鑫源便利店")
    MerchantFactory(name="华美餐厅")
    body = agent_client.get(reverse("accounts:merchants"), {"q": "鑫源"}).content.decode()
    assert "鑫源便利店" in body
    assert "华美餐厅" not in body


@pytest.mark.parametrize("size", [3, 40])
def test_it_lists_merchants_in_constant_queries(agent_client, django_assert_max_num_queries, size):
    MerchantFactory.create_batch(size)
    with django_assert_max_num_queries(6):
        response = agent_client.get(reverse("accounts:merchants"))
    assert response.status_code == 200


def test_it_saves_the_profile(merchant_client, merchant_user):
    response = merchant_client.post(
        reverse("accounts:profile"),
        {"first_name": "Alice", "last_name": "W", "email": "a@example.test", "phone": "13800000000", "language": "en"},
    )
    assert response.status_code == 302
    merchant_user.refresh_from_db()
    assert merchant_user.phone == "13800000000"


def test_it_refuses_a_bad_phone_on_the_profile(merchant_client):
    response = merchant_client.post(
        reverse("accounts:profile"),
        {"first_name": "A", "last_name": "W", "email": "a@example.test", "phone": "call me", "language": "en"},
    )
    assert response.status_code == 200
    assert "Enter a phone number" in response.content.decode()


def test_it_writes_chinese_names_family_name_first(merchant_user):
    merchant_user.first_name, merchant_user.last_name = "芳", "王"
    assert merchant_user.display_name == "王芳"
    merchant_user.first_name, merchant_user.last_name = "Alice", "Wang"
    assert merchant_user.display_name == "Alice Wang"
