"""An example shop that keeps its catalog and users in sync with Moox Sync."""

# Load the Celery app with Django, so @shared_task binds to it.
from shop.celery import app as celery_app

__all__ = ["celery_app"]
