"""Routes under SYNC_WEBHOOK_URL."""

from django.urls import path

from webhooks.views import SyncWebhookView

urlpatterns = [
    path("", SyncWebhookView.as_view(), name="sync-webhook"),
]
