"""Routes under SYNC_WEBHOOK_URL."""

from django.urls import include, path

from webhooks.digest import DigestView
from webhooks.views import SyncWebhookView

urlpatterns = [
    path("", SyncWebhookView.as_view(), name="sync-webhook"),
    # Backup: {SYNC_WEBHOOK_URL}/digest/, signed like the webhook. Included, as
    # Django warns (urls.W002) of an endpoint route that starts with a slash.
    path("/digest/", include([path("", DigestView.as_view(), name="sync-digest")])),
    # File sync: {SYNC_WEBHOOK_URL}/files/<step>/ (the include adds no slash).
    path("/files/", include("webhooks.files.urls")),
]
