import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_lets_the_demo_merchant_sign_in_and_see_its_home(page, login):
    call_command("seed_demo")
    login("merchant", "demo-pass-2026")
    assert page.url.endswith("/")
    heading = page.get_by_test_id("home-heading")
    assert "鑫源便利店" in heading.inner_text()
    assert page.get_by_test_id("merchant-name").inner_text() == "鑫源便利店"


def test_it_works_on_a_phone_sized_screen(page, login):
    call_command("seed_demo")
    page.set_viewport_size({"width": 390, "height": 844})
    login("agent", "demo-pass-2026")
    # The menu collapses behind the toggler and opens on tap.
    toggler = page.locator(".navbar-toggler")
    assert toggler.is_visible()
    toggler.click()
    page.get_by_test_id("user-menu").wait_for(state="visible")
