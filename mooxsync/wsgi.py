"""WSGI entry point (gunicorn mooxsync.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mooxsync.settings")

application = get_wsgi_application()
