from django.test import override_settings

from insights import charts


def test_it_draws_an_accessible_bar_chart_with_text_labels():
    svg = charts.bar_chart([("打印机", 3), ("<script>", 1)], title="Tickets & faults")
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<title id=" in svg and "Tickets &amp; faults" in svg
    assert "<desc id=" in svg and "打印机: 3" in svg
    assert ">3</text>" in svg and ">1</text>" in svg  # values as text, not only bar lengths
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_it_draws_a_stacked_bar_chart_with_a_legend():
    svg = charts.stacked_bar_chart(["BR001", "BR002"], [("Within SLA", [3, 0]), ("SLA breached", [1, 2])],
                                   title="SLA")
    assert svg.count("<rect") >= 5  # 2 legend swatches + 3 non-empty segments
    assert "Within SLA" in svg and "SLA breached" in svg
    assert "BR002 · SLA breached: 2" in svg


def test_it_draws_a_line_chart_with_points_and_axis_labels():
    svg = charts.line_chart(["11-01", "11-02", "11-03"], [("Reported", [1, None, 4])], title="Per day")
    assert "<polyline" in svg and svg.count("<circle") == 2
    assert "11-01" in svg and "Reported · 11-03: 4" in svg


def test_it_says_so_when_there_is_no_data():
    svg = charts.bar_chart([], title="Empty")
    assert "No data for this period." in svg


def test_it_caches_the_report_page_for_a_few_minutes(client, django_assert_max_num_queries, db):
    from tests.factories import ReviewerFactory

    client.force_login(ReviewerFactory())
    params = {"start": "2026-11-01", "end": "2026-11-30"}
    client.get("/reports/", params)
    with django_assert_max_num_queries(3):  # session and user only
        assert client.get("/reports/", params).status_code == 200
    from django.core.cache import cache

    cache.clear()  # a portal run with the cache off (0) keeps nothing: each page is built afresh
    with override_settings(REPORT_CACHE_SECONDS=0):
        with django_assert_max_num_queries(30) as ctx:
            client.get("/reports/", params)
        assert len(ctx.captured_queries) > 10
        with django_assert_max_num_queries(30) as ctx:
            client.get("/reports/", params)
        assert len(ctx.captured_queries) > 10
