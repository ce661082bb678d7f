"""The error codes the common terminal-management systems report, with their usual remote fixes;
the bank edits them in the admin (a code already present is left as the bank wrote it)."""

from django.db import migrations

CODES = [
    ("PAPER_OUT", "Printer out of paper", "warning",
     "The paper sensor reports no roll: receipts cannot be printed.",
     "Guided the merchant to change the paper roll (57 mm thermal, coated side towards the print head); a test receipt printed."),
    ("PRN_JAM", "Printer paper jam", "warning",
     "The print head is blocked by jammed or badly loaded paper.",
     "Guided the merchant to open the printer cover, remove the jammed paper and reload the roll; a test receipt printed."),
    ("NET_DOWN", "No network connection", "serious",
     "The terminal cannot reach the acquiring host: no payments can be authorised.",
     "Checked the SIM card / Wi-Fi with the merchant (re-seated the SIM, re-joined the Wi-Fi network); the terminal is online again."),
    ("FW_OUTDATED", "Firmware older than the bank's minimum", "warning",
     "The terminal runs firmware below the version the bank requires; some cards may be declined.",
     "Pushed the current firmware update from the terminal-management system; the terminal restarted on the new version."),
    ("CARD_READER", "Card reader did not respond", "serious",
     "The chip or magnetic-stripe reader failed its self-test.",
     "Restarted the terminal remotely and had the merchant clean the card slot; a test card read correctly."),
    ("BATTERY_LOW", "Battery below 10 %", "info",
     "The terminal is running on a nearly empty battery.",
     "Asked the merchant to connect the charger; the terminal reports mains power."),
    ("TAMPER", "Tamper switch triggered: terminal locked", "serious",
     "The security module detected the case being opened and erased its keys: it needs a branch.",
     ""),
]


def seed(apps, schema_editor):
    ErrorCode = apps.get_model("terminals", "ErrorCode")
    for code, title, severity, explanation, fix in CODES:
        ErrorCode.objects.get_or_create(
            code=code, defaults={"title": title, "severity": severity, "explanation": explanation, "suggested_fix": fix}
        )


class Migration(migrations.Migration):
    dependencies = [("terminals", "0003_health_telemetry")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
