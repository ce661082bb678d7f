"""The shared layout's pieces: the menu that keeps to one row, machine-readable times, date inputs."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template
from django.utils import translation

from portal.core.forms import DateInput
from portal.core.nav import ROW_ITEMS, nav_for
from tests.factories import AdminFactory, MerchantUserFactory

pytestmark = pytest.mark.django_db


def test_it_puts_the_sections_a_role_uses_less_under_more_only_when_the_row_is_full():
    merchant, merchant_more = nav_for(MerchantUserFactory())
    assert not any(item["more"] for item in merchant) and not merchant_more
    admin, admin_more = nav_for(AdminFactory())
    inline = [item["name"] for item in admin if not item["more"]]
    more = [item["name"] for item in admin if item["more"]]
    assert more == [item["name"] for item in admin_more]
    assert len(inline) <= ROW_ITEMS
    assert {"accounts:branches", "terminals:import", "notifications:log"} <= set(more)
    assert inline[0] == "home" and "tickets:list" in inline


def test_it_writes_datetime_attributes_to_the_second_in_china_time():
    moment = datetime(2026, 11, 24, 1, 2, 3, 456789, tzinfo=UTC)
    html = Template("{% load datetimes %}{{ moment|datetime_attr }} {{ day|datetime_attr }}").render(
        Context({"moment": moment, "day": date(2026, 11, 24)}))
    assert html == "2026-11-24T09:02:03+08:00 2026-11-24"


def test_it_gives_date_inputs_an_iso_value_in_every_language():
    with translation.override("zh-hans"):
        html = DateInput().render("d", date(2026, 11, 24))
    assert 'type="date"' in html and 'value="2026-11-24"' in html
