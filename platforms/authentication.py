"""API authentication by a platform's token: ``Authorization: Bearer <api_token>``."""

from rest_framework import authentication, exceptions

from platforms.selectors import platform_by_token


class PlatformPrincipal:
    """The caller of an API request authenticated by a platform token."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, platform) -> None:
        self.platform = platform

    def __str__(self) -> str:
        return f"platform:{self.platform.domain}"


class PlatformTokenAuthentication(authentication.BaseAuthentication):
    """Authenticate a request by the Bearer token of a known platform."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Invalid Authorization header: expected 'Bearer <api_token>'."
            )
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        platform = platform_by_token(token)
        if platform is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return PlatformPrincipal(platform), platform

    def authenticate_header(self, request) -> str:
        return self.keyword
