"""Routes of file sync, under {SYNC_WEBHOOK_URL}/files/."""

from django.urls import path

from webhooks.files.views import FileCheckView, FileChunkView, FileFinalizeView

urlpatterns = [
    path("check/", FileCheckView.as_view(), name="file-sync-check"),
    path("chunk/", FileChunkView.as_view(), name="file-sync-chunk"),
    path("finalize/", FileFinalizeView.as_view(), name="file-sync-finalize"),
]
