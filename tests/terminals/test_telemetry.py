"""POST /api/v1/telemetry/: signed batches of health reports (terminals.telemetry), and retention."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from bench.telemetry import Fleet, signed
from terminals import telemetry
from terminals.models import HealthDailySummary, HealthReport, TelemetrySignature, TelemetrySource
from tests.factories import ActiveTerminalFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("error_codes")]
URL = "/api/v1/telemetry/"


@pytest.fixture
def source(db):
    return TelemetrySource.objects.create(key="paxstore", name="PAXSTORE", secret="s3cret-of-the-tms")


@pytest.fixture
def fleet_terminals(db):
    return [ActiveTerminalFactory(serial_number=f"SIM{n:06d}", tag_number=f"SIMTAG{n:06d}") for n in range(1, 6)]


def _report(serial, at=None, **fields):
    at = at or timezone.now().replace(microsecond=0) - timedelta(minutes=5)
    return {"serial_number": serial, "reported_at": at.isoformat(), "online": True, **fields}


def _post(source, reports, *, secret=None, timestamp=None, key=None):
    body, headers = signed(key or source.key, secret or source.secret, reports, timestamp)
    return APIClient(HTTP_ACCEPT_LANGUAGE="en").post(URL, body, content_type="application/json", **headers)


def test_it_stores_a_signed_batch_of_the_simulated_fleet(source, fleet_terminals):
    fleet = Fleet(serials=[t.serial_number for t in fleet_terminals])
    for device in fleet.devices:
        device.silent = False
    reports = list(fleet.play(datetime.now(UTC) - timedelta(minutes=20), rounds=3))
    response = _post(source, reports)
    assert response.status_code == 200, response.json()
    assert response.json() == {"accepted": 15, "duplicates": 0, "unknown_serials": []}
    stored = HealthReport.objects.filter(terminal=fleet_terminals[0]).order_by("reported_at")
    assert stored.count() == 3 and stored[0].firmware_version and stored[0].source == source


def test_it_keeps_the_errors_and_their_first_code(source, fleet_terminals):
    serial = fleet_terminals[0].serial_number
    errors = [{"code": "PAPER_OUT", "text": "Printer out of paper"}, {"code": "BATTERY_LOW", "text": "low"}]
    assert _post(source, [_report(serial, paper_out=True, printer_status="fault", errors=errors)]).status_code == 200
    report = HealthReport.objects.get()
    assert report.error_code == "PAPER_OUT" and report.errors == errors and report.paper_out


def test_it_names_unknown_serials_back_and_stores_only_the_known(source, fleet_terminals):
    response = _post(source, [_report("NOSUCH001"), _report(fleet_terminals[0].serial_number)])
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "unknown_serials": ["NOSUCH001"]}
    assert HealthReport.objects.count() == 1


def test_it_is_idempotent_per_source_serial_and_report_time(source, fleet_terminals):
    serial = fleet_terminals[0].serial_number
    at = timezone.now().replace(microsecond=0) - timedelta(minutes=10)
    assert _post(source, [_report(serial, at)]).json()["accepted"] == 1
    time.sleep(1)  # a new timestamp: a resend, not a replay of the same signature
    again = _post(source, [_report(serial, at, online=False), _report(serial, at), _report(serial, at + timedelta(minutes=5))])
    assert again.json() == {"accepted": 1, "duplicates": 2, "unknown_serials": []}
    assert HealthReport.objects.count() == 2
    assert HealthReport.objects.get(reported_at=at).online is True  # the first one stays
    other = TelemetrySource.objects.create(key="vhq", name="VHQ")
    assert _post(other, [_report(serial, at)]).json()["accepted"] == 1  # another source's report


def test_it_refuses_a_bad_signature_and_an_unknown_or_inactive_source(source, fleet_terminals):
    reports = [_report(fleet_terminals[0].serial_number)]
    for response in (
        _post(source, reports, secret="not-the-secret"),
        _post(source, reports, key="nobody"),
    ):
        assert response.status_code == 401
        assert response.json() == {"detail": "The signature does not match.", "code": "bad_signature"}
    source.is_active = False
    source.save()
    assert _post(source, reports).status_code == 401
    unsigned = APIClient().post(URL, {"reports": reports}, format="json")
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "not_signed"
    assert not HealthReport.objects.exists()


def test_it_refuses_a_body_changed_after_signing(source, fleet_terminals):
    body, headers = signed(source.key, source.secret, [_report(fleet_terminals[0].serial_number)])
    tampered = body.replace(b'"online":true', b'"online":false')
    response = APIClient().post(URL, tampered, content_type="application/json", **headers)
    assert response.status_code == 401 and not HealthReport.objects.exists()


@override_settings(TELEMETRY_WINDOW_SECONDS=300)
def test_it_refuses_a_timestamp_outside_the_window(source, fleet_terminals):
    reports = [_report(fleet_terminals[0].serial_number)]
    for timestamp in (int(time.time()) - 305, int(time.time()) + 305):  # a margin for the clock moving on
        response = _post(source, reports, timestamp=timestamp)
        assert response.status_code == 400 and response.json()["code"] == "stale_timestamp"
    assert _post(source, reports, timestamp=int(time.time()) - 290).status_code == 200


def test_it_refuses_a_replay_of_the_same_signed_batch(source, fleet_terminals):
    body, headers = signed(source.key, source.secret, [_report(fleet_terminals[0].serial_number)])
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    assert client.post(URL, body, content_type="application/json", **headers).status_code == 200
    replay = client.post(URL, body, content_type="application/json", **headers)
    assert replay.status_code == 409
    assert replay.json() == {"detail": "This batch was already received (a replay).", "code": "replay"}
    assert HealthReport.objects.count() == 1


def test_it_answers_bad_reports_with_their_positions_and_stores_nothing(source, fleet_terminals):
    serial = fleet_terminals[0].serial_number
    response = _post(source, [
        _report(serial),
        {"serial_number": serial, "reported_at": "yesterday", "online": "yes"},
        _report(serial, signal_strength=140, network_type="5g", errors=[{"text": "no code"}]),
    ])
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["detail"] == "Please correct the fields marked below."
    assert body["reports"][0].startswith("1: ") and "reported_at" in body["reports"][0] and "online" in body["reports"][0]
    assert body["reports"][1].startswith("2: ") and "signal_strength" in body["reports"][1]
    assert "network_type" in body["reports"][1] and "errors" in body["reports"][1]
    assert not HealthReport.objects.exists()
    # A refused batch is not remembered: corrected, it may be signed and sent again.
    assert not TelemetrySignature.objects.exists()


def test_it_refuses_reports_in_the_future_or_past_the_retention(source, fleet_terminals):
    serial = fleet_terminals[0].serial_number
    now = timezone.now()
    response = _post(source, [_report(serial, now + timedelta(hours=1)), _report(serial, now - timedelta(days=31))])
    assert response.status_code == 400 and len(response.json()["reports"]) == 2


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"reports": []}', b'{"reports": "x"}'])
def test_it_answers_a_malformed_body_with_a_400(source, body):
    timestamp = str(int(time.time()))
    response = APIClient().post(
        URL, body, content_type="application/json", HTTP_X_TELEMETRY_SOURCE=source.key,
        HTTP_X_TELEMETRY_TIMESTAMP=timestamp, HTTP_X_TELEMETRY_SIGNATURE=telemetry.sign(source.secret, timestamp, body),
    )
    assert response.status_code == 400 and response.json()["code"] in ("parse_error", "invalid")


@override_settings(TELEMETRY_MAX_REPORTS=3)
def test_it_limits_the_reports_in_a_batch(source, fleet_terminals):
    response = _post(source, [_report(t.serial_number) for t in fleet_terminals[:4]])
    assert response.status_code == 400
    assert response.json()["reports"] == ["At most 3 reports in one batch."]


@override_settings(TELEMETRY_MAX_BYTES=200)
def test_it_limits_the_size_of_a_batch(source, fleet_terminals):
    response = _post(source, [_report(t.serial_number) for t in fleet_terminals])
    assert response.status_code == 413 and response.json()["code"] == "too_large"


def test_it_stores_a_batch_in_a_constant_number_of_queries(source, fleet_terminals, django_assert_max_num_queries):
    # source, terminals, the signature (in a savepoint), the temporary table, COPY, insert: at any size.
    fleet = Fleet(serials=[t.serial_number for t in fleet_terminals])
    for rounds, start in ((1, timedelta(hours=3)), (20, timedelta(hours=2))):
        reports = list(fleet.play(datetime.now(UTC) - start, rounds=rounds))
        with django_assert_max_num_queries(11):
            assert _post(source, reports).status_code == 200


def test_retention_summarises_days_then_deletes_old_raw_reports(source, fleet_terminals):
    terminal = fleet_terminals[0]
    today = timezone.localdate()
    old_day = today - timedelta(days=35)

    def at(day, hour):
        return timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=hour)

    rows = [
        HealthReport(source=source, terminal=terminal, reported_at=at(old_day, 9), online=True, firmware_version="3.3.1"),
        HealthReport(source=source, terminal=terminal, reported_at=at(old_day, 10), online=False,
                     error_code="NET_DOWN", errors=[{"code": "NET_DOWN", "text": ""}], firmware_version="3.4.0"),
        HealthReport(source=source, terminal=terminal, reported_at=at(today - timedelta(days=2), 9), online=True),
    ]
    HealthReport.objects.bulk_create(rows)
    result = telemetry.retention(today)
    assert result["deleted"] == 2
    assert list(HealthReport.objects.values_list("reported_at", flat=True)) == [rows[2].reported_at]
    summary = HealthDailySummary.objects.get(terminal=terminal, day=old_day)
    assert (summary.reports, summary.offline_reports, summary.error_reports) == (2, 1, 1)
    assert summary.error_counts == {"NET_DOWN": 1} and summary.firmware_version == "3.4.0"
    assert summary.last_seen_at == rows[1].reported_at
    # A second run the same night changes nothing; a summary past TELEMETRY_SUMMARY_DAYS goes.
    assert telemetry.retention(today)["deleted"] == 0
    assert HealthDailySummary.objects.filter(day=old_day).count() == 1
    with override_settings(TELEMETRY_SUMMARY_DAYS=30):
        telemetry.retention(today)
    assert not HealthDailySummary.objects.filter(day=old_day).exists()


def test_retention_forgets_signatures_past_the_replay_window(source):
    TelemetrySignature.objects.create(source=source, signature="a" * 64, seen_at=timezone.now() - timedelta(hours=1))
    TelemetrySignature.objects.create(source=source, signature="b" * 64)
    telemetry.retention()
    assert list(TelemetrySignature.objects.values_list("signature", flat=True)) == ["b" * 64]


def test_the_api_gives_staff_the_health_and_the_suggested_fixes(source, fleet_terminals, agent, other_merchant_user):
    terminal = fleet_terminals[0]
    errors = [{"code": "PAPER_OUT", "text": "Printer out of paper"}]
    _post(source, [_report(terminal.serial_number, firmware_version="3.4.0", errors=errors)])
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(agent)
    data = client.get(f"/api/v1/terminals/{terminal.serial_number}/health/").json()
    assert data["firmware_version"] == "3.4.0" and data["online"] is True and data["online_hours"] == 1
    assert data["codes"][0]["code"] == "PAPER_OUT" and "paper roll" in data["codes"][0]["suggested_fix"]
    client.force_authenticate(other_merchant_user)
    assert client.get(f"/api/v1/terminals/{terminal.serial_number}/health/").status_code == 404
