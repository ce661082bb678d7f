import pytest
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_signs_in_and_lands_on_the_home_page(client, merchant_user):
    response = client.post(
        reverse("login"), {"username": merchant_user.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert merchant_user.merchant.name in response.content.decode()


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_locks_the_account_after_five_failures(client, merchant_user):
    for _ in range(5):
        client.post(reverse("login"), {"username": merchant_user.username, "password": "wrong"})
    # Even the right password is refused now, with a clear message.
    response = client.post(
        reverse("login"), {"username": merchant_user.username, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()  # the default language is Chinese
    assert "_auth_user_id" not in client.session


def test_it_does_not_lock_other_accounts(client, merchant_user, agent):
    for _ in range(5):
        client.post(reverse("login"), {"username": merchant_user.username, "password": "wrong"})
    response = client.post(reverse("login"), {"username": agent.username, "password": PASSWORD})
    assert response.status_code == 302


def test_it_signs_out_with_post_only(merchant_client):
    assert merchant_client.get(reverse("logout")).status_code == 405
    response = merchant_client.post(reverse("logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in merchant_client.session


def test_it_emails_a_password_reset_link(client, merchant_user, mailoutbox):
    client.post(reverse("password_reset"), {"email": merchant_user.email})
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body
