"""Routes of the platforms API: /api/platforms/."""

from rest_framework.routers import SimpleRouter

from platforms.api.views import PlatformViewSet

router = SimpleRouter()
router.register("platforms", PlatformViewSet, basename="platform")

urlpatterns = router.urls
