"""A database made by the portal before "one house" (the apps moved, the per-day counters became
one, the satisfaction rating moved to repairs) migrates forward with every row.

The test takes the test database back to the migrations of that release, writes rows into every
table through the models as they were then, migrates forward and counts the rows of every table.
"""

from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

# The leaf migrations of the release before (main at ada90d0); core had no tables then.
PREVIOUS_RELEASE = [
    ("accounts", "0001_initial"),
    ("notifications", "0002_event_key_index"),
    ("terminals", "0002_alter_terminal_serial_number_and_more"),
    ("repairs", "0001_initial"),
    ("applications", "0003_event_refund_action"),
    ("insights", "0001_initial"),
    ("core", None),
]
OUR_APPS = ("accounts", "core", "notifications", "terminals", "repairs", "applications", "insights")
# Tables that were renamed or merged: (new table, [old tables whose rows it holds]).
MOVED = {
    "repairs_satisfaction": ["insights_satisfaction"],
    "core_dailycounter": ["repairs_serviceordercounter", "applications_applicationcounter"],
}
DAY = date(2026, 11, 24)


def _counts():
    tables = [t for t in connection.introspection.table_names() if t.split("_", 1)[0] in OUR_APPS]
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - our tables
            counts[table] = cursor.fetchone()[0]
    return counts


def _write_old_rows(apps):
    """One row (or a few) in every table of the previous release, through its historical models."""
    get = apps.get_model
    branch = get("accounts", "Branch").objects.create(code="BR001", name="浦东", city="上海", address="路1号",
                                                      phone="021-55550000", hours="9:00–17:00")
    channel = get("accounts", "Channel").objects.create(code="BANK", name="本行", kind="bank")
    merchant = get("accounts", "Merchant").objects.create(name="鑫源", credit_code="91310115MA1K4XY81X",
                                                          contact_name="王芳", contact_phone="13800138001",
                                                          address="路2号", city="上海")
    User = get("accounts", "User")
    owner = User.objects.create(username="m1", role="merchant", merchant=merchant, password="!")
    engineer = User.objects.create(username="e1", role="engineer", branch=branch, password="!")
    get("accounts", "MerchantDocument").objects.create(merchant=merchant, kind="business_licence",
                                                       file="merchant-docs/1/a.pdf", content_type="application/pdf",
                                                       original_name="a.pdf", size=10, uploaded_by=owner)
    terminal = get("terminals", "Terminal").objects.create(serial_number="SN-OLD-1", tag_number="TAG-OLD-1",
                                                           model="A920", manufacturer="PAX", channel=channel,
                                                           merchant=merchant, status="faulty")
    get("terminals", "TerminalEvent").objects.create(terminal=terminal, from_status="active", to_status="faulty")
    get("terminals", "MaintenanceRecord").objects.create(terminal=terminal, kind="cleaning", done_by=owner,
                                                         done_at="2026-11-24T09:00:00+08:00")
    ticket = get("repairs", "FaultTicket").objects.create(service_order_no="SO20261124-0007", terminal=terminal,
                                                          merchant=merchant, status="closed", fault_type="printer",
                                                          symptoms="不出纸", branch=branch)
    get("repairs", "TicketEvent").objects.create(ticket=ticket, from_status="", to_status="reported")
    get("repairs", "TicketComment").objects.create(ticket=ticket, author=owner, body="谢谢")
    get("repairs", "RepairRequest").objects.create(ticket=ticket, branch=branch, form_number="RR-1",
                                                   checked_tag_number="TAG-OLD-1", checked_serial_number="SN-OLD-1",
                                                   engineer=engineer)
    get("repairs", "NetworkTest").objects.create(ticket=ticket, passed=True, engineer=engineer)
    get("repairs", "ServiceOrderCounter").objects.create(day=DAY, last_number=7)
    get("insights", "Satisfaction").objects.create(ticket=ticket, rating=4, comment="好", rated_by=owner)
    application = get("applications", "Application").objects.create(number="AP20261124-0003", merchant=merchant,
                                                                     channel=channel, created_by=owner)
    get("applications", "ApplicationEvent").objects.create(application=application, to_status="draft")
    get("applications", "ApplicationCounter").objects.create(day=DAY, last_number=3)
    get("notifications", "Notification").objects.create(kind="ticket.status", event_key="ticket-event:1",
                                                        recipient=owner, channel="in_app", status="sent")


@pytest.mark.django_db(transaction=True)
def test_a_database_of_the_previous_release_migrates_forward_with_every_row():
    from django.contrib.contenttypes.models import ContentType

    from portal.core.numbering import next_number
    from repairs.models import Satisfaction

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate(PREVIOUS_RELEASE)
        old_apps = executor.loader.project_state([node for node in PREVIOUS_RELEASE if node[1]]).apps
        _write_old_rows(old_apps)
        ContentType.objects.get_or_create(app_label="insights", model="satisfaction")
        before = _counts()
        assert all(before[t] for t in ("insights_satisfaction", "repairs_serviceordercounter", "repairs_faultticket"))

        executor = MigrationExecutor(connection)
        executor.migrate(latest)
        after = _counts()
    finally:
        call_command("migrate", verbosity=0)

    for table, count in before.items():
        if any(table in old for old in MOVED.values()):
            continue
        assert after.get(table) == count, table
    for table, old_tables in MOVED.items():
        assert after[table] == sum(before[t] for t in old_tables), table
        assert not any(t in after for t in old_tables)
    # The rows are the same rows: the rating, and numbering going on from where it stopped.
    assert Satisfaction.objects.get().rating == 4
    with transaction.atomic():
        assert next_number("SO", DAY) == "SO20261124-0008"
        assert next_number("AP", DAY) == "AP20261124-0004"
    assert ContentType.objects.filter(app_label="repairs", model="satisfaction").exists()
    assert not ContentType.objects.filter(app_label="insights", model="satisfaction").exists()
