from django.apps import AppConfig


class ScaleConfig(AppConfig):
    """Proof at scale: the bulk-data generator used by the benchmarks and the load tests."""

    name = "portal.scale"
    label = "scale"
    default_auto_field = "django.db.models.BigAutoField"
