"""WSGI entry (gunicorn's worker processes: pages, the API, static files).

Each worker thread keeps its database connection between requests (``DB_CONN_MAX_AGE``, 600 s
unless set; health-checked before reuse): opening one and running its PRAGMAs cost more than a
whole cached page. The ASGI process (``asgi.py``) keeps Django's default of a connection per
request, as Django advises under ASGI, where a kept SQLite connection was seen holding an old
read snapshot.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("DB_CONN_MAX_AGE", "600")
application = get_wsgi_application()
