"""The WSGI application gunicorn serves (`gunicorn minqing.wsgi:application`).

Once Django is loaded, its objects (modules, models, URL patterns, templates' nodes) live as
long as the worker. Python's cyclic garbage collector would still walk them on every full
collection, and collects the youngest generation every 700 allocations — an ORM query makes
thousands — so a request's tail latency carried collector pauses. Freezing what exists after
start-up (gc.freeze) and collecting the young generation less often cut the p95 of a
signed-in search by about a tenth in bench/search_bench.py. Memory is unaffected in practice:
requests make little cyclic garbage, and it is still collected. MINQING_GC_THRESHOLD=0 keeps
Python's defaults.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from minqing.core.env import env_int

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "minqing.settings")
application = get_wsgi_application()

_threshold = env_int("MINQING_GC_THRESHOLD", 50000)
if _threshold > 0:
    _ = get_resolver().url_patterns  # import every view now, so that it is frozen too
    gc.collect()
    gc.freeze()
    gc.set_threshold(_threshold, 20, 20)
