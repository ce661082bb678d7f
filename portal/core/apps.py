from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "portal.core"
    label = "core"

    def ready(self):
        from portal.core import cache

        cache.connect()  # what a request fetched ahead is dropped when it starts and ends
