"""The satisfaction rating moved to repairs (repairs/migrations/0003): insights forgets it; its
table and rows are repairs' now."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_initial"),
        ("repairs", "0003_satisfaction_from_insights"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Satisfaction")],
            database_operations=[],
        ),
    ]
