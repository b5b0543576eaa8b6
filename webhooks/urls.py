"""Routes under SYNC_WEBHOOK_URL."""

urlpatterns: list = []
