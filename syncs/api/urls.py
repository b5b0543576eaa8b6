"""Routes of the syncs API: /api/syncs/, /api/platforms/{id}/syncs/, /api/models/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

import platforms.api.integers  # noqa: F401  (registers the <id:...> converter)
from syncs.api.views import PlatformSyncListView, SyncableModelListView, SyncViewSet

router = SimpleRouter(use_regex_path=False)
router.register("syncs", SyncViewSet, basename="sync")

urlpatterns = [
    path(
        "platforms/<id:platform_id>/syncs/",
        PlatformSyncListView.as_view(),
        name="platform-syncs",
    ),
    path("models/", SyncableModelListView.as_view(), name="syncable-models"),
    *router.urls,
]
