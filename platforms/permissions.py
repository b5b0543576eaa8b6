"""Who may use the API: platforms read, admins (staff sessions) write."""

from rest_framework import permissions

from platforms.authentication import PlatformPrincipal


class IsPlatformOrAdmin(permissions.BasePermission):
    """Allow reads to any known platform and everything to staff users."""

    message = "Platform tokens may only read; changes need an admin session."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        if isinstance(user, PlatformPrincipal):
            return request.method in permissions.SAFE_METHODS
        return bool(user.is_staff)


def is_admin(request) -> bool:
    """Tell whether the request comes from a staff user (not a platform token)."""
    user = request.user
    return bool(user and user.is_authenticated and user.is_staff)
