"""The merchant's satisfaction rating belongs to the fault tickets (it was the insights app's):
the model moves to repairs with its rows — the table insights_satisfaction is renamed
repairs_satisfaction, its index follows, and the content type (permissions) moves with it."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="repairs", model="satisfaction").exists():
        ContentType.objects.filter(app_label="insights", model="satisfaction").update(app_label="repairs")


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="insights", model="satisfaction").exists():
        ContentType.objects.filter(app_label="repairs", model="satisfaction").update(app_label="insights")


class Migration(migrations.Migration):
    dependencies = [
        ("repairs", "0002_numbers_from_the_daily_counter"),
        # The table is made by insights' first migration (on a new database too).
        ("insights", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Satisfaction",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("rating", models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)], verbose_name="rating")),
                        ("comment", models.TextField(blank=True, max_length=1000, verbose_name="comment")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="rated at")),
                        ("rated_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="rated by")),
                        ("ticket", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="satisfaction", to="repairs.faultticket", verbose_name="fault ticket")),
                    ],
                    options={
                        "verbose_name": "satisfaction rating",
                        "verbose_name_plural": "satisfaction ratings",
                        "ordering": ["-created_at", "-pk"],
                        "db_table": "insights_satisfaction",
                        "indexes": [models.Index(fields=["created_at"], name="insights_sa_created_725dc8_idx")],
                        "constraints": [models.CheckConstraint(condition=models.Q(("rating__gte", 1), ("rating__lte", 5)), name="satisfaction_rating_1_to_5")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="satisfaction", table=None),
        migrations.RenameIndex(model_name="satisfaction", new_name="repairs_sat_created_idx", old_name="insights_sa_created_725dc8_idx"),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
