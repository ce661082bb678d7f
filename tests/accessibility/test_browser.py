"""Keyboard and screen-reader use, and the frictions a new user met, in Chromium."""

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, ActiveTerminalFactory, AdminFactory, BranchFactory, MerchantUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED_OUTLINE = "() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"


def test_it_starts_with_a_skip_link_and_shows_where_the_keyboard_is(page, login):
    MerchantUserFactory(username="kim")
    login("kim", PASSWORD)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # hidden until focused
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # Every control the keyboard reaches has a ring at least 2 px wide, on the blue bar too.
    page.locator("nav .navbar-brand").focus()
    page.keyboard.press("Tab")
    for _ in range(12):
        page.keyboard.press("Tab")
        style, width = page.evaluate(FOCUSED_OUTLINE)
        assert style != "none" and width >= 2, page.evaluate("() => document.activeElement.outerHTML.slice(0, 120)")


def test_it_ties_each_field_error_to_its_field_and_announces_messages(page, login):
    user = MerchantUserFactory(username="kim")
    ActiveTerminalFactory(merchant=user.merchant)
    login("kim", PASSWORD)
    page.goto("/tickets/report/")
    symptoms = page.locator("textarea[name=symptoms]")
    symptoms.evaluate("el => el.form.noValidate = true")  # what the server says, not the browser's bubble
    page.get_by_test_id("report-form").locator("input[type=submit]").click()
    symptoms = page.locator("textarea[name=symptoms]")
    expect(symptoms).to_have_attribute("aria-invalid", "true")
    described = symptoms.get_attribute("aria-describedby").split()
    errors = " ".join(page.locator(f"[id='{i}']").inner_text() for i in described)
    assert "This field is required." in errors

    symptoms.fill("屏幕不亮")
    page.get_by_test_id("report-form").locator("input[type=submit]").click()
    message = page.get_by_test_id("messages").get_by_role("status")
    expect(message).to_contain_text("Fault reported")
    assert page.get_by_test_id("messages").get_attribute("aria-live") == "polite"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_staff_menu_keeps_to_one_row_and_the_search_box_shows_its_hint(page, login, language):
    AdminFactory(username="ada", language=language)
    login("ada", PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 800})
    tops = page.locator("#mainnav .nav-link:visible, #mainnav form:visible").evaluate_all(
        "els => els.map(el => Math.round(el.getBoundingClientRect().top))")
    assert max(tops) - min(tops) < 16 and page.locator(".navbar").bounding_box()["height"] < 80, tops
    search = page.get_by_test_id("nav-search")
    fits = search.evaluate("""el => {
      const s = getComputedStyle(el), c = document.createElement("canvas").getContext("2d");
      c.font = `${s.fontSize} ${s.fontFamily}`;
      return c.measureText(el.placeholder).width <= el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
    }""")
    assert fits, search.get_attribute("placeholder")
    # The sections that no longer fit are one click away.
    page.get_by_test_id("nav-more").click()
    expect(page.locator(".dropdown-menu a[href='/notifications/deliveries/']")).to_be_visible()


def test_the_language_switch_works_on_the_public_tracking_page(page):
    branch = BranchFactory(code="BR001", name="浦东支行")
    terminal = ActiveTerminalFactory(tag_number="TAG-TRACK-9")
    from repairs.workflow import create_ticket

    ticket = create_ticket(terminal=terminal, actor=MerchantUserFactory(merchant=terminal.merchant),
                           fault_type="printer", symptoms="卡纸")
    assert branch
    page.goto(f"/track/?no={ticket.service_order_no}&tag=TAG-TRACK-9")
    expect(page.get_by_test_id("track-status")).to_have_text("Reported")
    with page.expect_navigation():
        page.select_option("#language-select", "zh-hans")
    # The same lookup, now in Chinese (the form is accepted: no "forbidden" page).
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("track-status")).to_have_text("已报修")
    assert page.url.endswith(f"/track/?no={ticket.service_order_no}&tag=TAG-TRACK-9")
