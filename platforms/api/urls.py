"""Routes of the platforms API: /api/platforms/."""

from rest_framework.routers import SimpleRouter

import platforms.api.integers  # noqa: F401  (registers the <id:...> converter)
from platforms.api.views import PlatformViewSet

router = SimpleRouter(use_regex_path=False)
router.register("platforms", PlatformViewSet, basename="platform")

urlpatterns = router.urls
