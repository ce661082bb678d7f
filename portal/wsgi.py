import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
application = get_wsgi_application()

# A worker keeps ~150,000 long-lived objects (Django, the app registry, compiled templates), which
# every full garbage collection walks again (~28 ms each, about one per hundred page views), and
# a page allocates enough to run the youngest collection about once a request. Freeze what the
# worker holds now and collect the young generation less often: collections went from 0.2–0.45 ms
# to ~0.1 ms a page in process (bench/results.md, issue 15 fifth pass). Memory is still freed by
# reference counting as before; only reference cycles wait a little longer.
gc.freeze()
gc.set_threshold(50_000, 20, 100)
