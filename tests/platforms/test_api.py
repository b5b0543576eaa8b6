import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from platforms.models import Platform
from tests.factories import PlatformFactory, SyncFactory, UserFactory

pytestmark = pytest.mark.django_db

PLATFORM_FIELDS = {
    "id",
    "uuid",
    "name",
    "domain",
    "scheme",
    "ip_address",
    "thumbnail",
    "master",
    "locked",
    "lock_reason",
    "show_in_menu",
    "order",
    "created_at",
    "updated_at",
    "has_token",
}
CREDENTIALS = {"api_token", "signing_secret"}


def url(platform=None) -> str:
    return f"/api/platforms/{platform.pk}/" if platform else "/api/platforms/"


# --- authentication and permissions ------------------------------------------


def test_list_without_credentials_is_401(api):
    response = api.get(url())
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Bearer"


def test_wrong_token_is_401(api, current_platform):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-known-token")
    response = api.get(url())
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_platform_token_reads_the_list(platform_api, current_platform):
    PlatformFactory()
    response = platform_api.get(url())
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_platform_token_cannot_create_and_nothing_is_written(platform_api):
    response = platform_api.post(url(), {"name": "B", "domain": "b.test"})
    assert response.status_code == 403
    assert response.json()["error"] == "permission_denied"
    assert not Platform.objects.filter(domain="b.test").exists()


def test_platform_token_cannot_change_or_delete(platform_api):
    other = PlatformFactory(name="Other")
    assert platform_api.patch(url(other), {"name": "X"}).status_code == 403
    assert platform_api.delete(url(other)).status_code == 403
    other.refresh_from_db()
    assert other.name == "Other"


def test_session_of_non_staff_user_is_403(api, current_platform):
    api.force_login(UserFactory())
    assert api.get(url()).status_code == 403


# --- credentials --------------------------------------------------------------


def test_platform_token_callers_never_see_credentials(platform_api, current_platform):
    listed = platform_api.get(url()).json()["results"][0]
    shown = platform_api.get(url(current_platform)).json()
    for body in (listed, shown):
        assert set(body) == PLATFORM_FIELDS
        assert body["has_token"] is True


def test_staff_see_credentials(admin_api):
    platform = PlatformFactory()
    body = admin_api.get(url(platform)).json()
    assert set(body) == PLATFORM_FIELDS | CREDENTIALS
    assert body["api_token"] == platform.api_token
    assert body["signing_secret"] == platform.signing_secret


# --- create, read, update, delete ----------------------------------------------


def test_staff_create_a_platform_with_generated_credentials(admin_api):
    response = admin_api.post(
        url(), {"name": "B", "domain": "B.Example.com:8000", "order": 3}
    )
    assert response.status_code == 201
    platform = Platform.objects.get(name="B")
    assert platform.domain == "b.example.com:8000"
    assert platform.order == 3
    assert len(platform.api_token) == 80
    assert platform.signing_secret == ""  # its key comes from the master
    assert response.json()["id"] == platform.pk
    assert response.json()["api_token"] == platform.api_token


def test_staff_create_keeps_given_credentials(admin_api):
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    response = admin_api.post(
        url(),
        {
            "name": "B",
            "domain": "b.test",
            "api_token": "t" * 40,
            "signing_secret": secret,
        },
    )
    assert response.status_code == 201
    platform = Platform.objects.get(name="B")
    assert (platform.api_token, platform.signing_secret) == ("t" * 40, secret)


def test_staff_change_a_platform(admin_api):
    platform = PlatformFactory(locked=False)
    response = admin_api.patch(
        url(platform), {"locked": True, "lock_reason": "maintenance"}, format="json"
    )
    assert response.status_code == 200
    platform.refresh_from_db()
    assert (platform.locked, platform.lock_reason) == (True, "maintenance")


def test_staff_replace_a_platform(admin_api):
    platform = PlatformFactory()
    body = {"name": "Renamed", "domain": "renamed.test", "scheme": "https"}
    response = admin_api.put(url(platform), body, format="json")
    assert response.status_code == 200
    platform.refresh_from_db()
    assert (platform.name, platform.domain, platform.scheme) == (
        "Renamed",
        "renamed.test",
        "https",
    )


def test_staff_delete_an_unused_platform(admin_api):
    platform = PlatformFactory()
    assert admin_api.delete(url(platform)).status_code == 204
    assert not Platform.objects.filter(pk=platform.pk).exists()


def test_list_is_paginated(admin_api):
    PlatformFactory.create_batch(3)
    body = admin_api.get(url(), {"page": 1}).json()
    assert body["count"] == 3
    assert {"next", "previous", "results"} <= set(body)


def test_thumbnail_upload_is_read_back_as_a_url(admin_api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    image = SimpleUploadedFile("logo.png", b"\x89PNG\r\n", content_type="image/png")
    response = admin_api.post(
        url(), {"name": "B", "domain": "b.test", "thumbnail": image}, format="multipart"
    )
    assert response.status_code == 201
    assert response.json()["thumbnail"].startswith("http://testserver/media/")
    assert Platform.objects.get(name="B").thumbnail.name.endswith(".png")


def test_thumbnail_of_another_type_is_400(admin_api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    script = SimpleUploadedFile("run.exe", b"MZ", content_type="application/x-msdos")
    response = admin_api.post(
        url(),
        {"name": "B", "domain": "b.test", "thumbnail": script},
        format="multipart",
    )
    assert response.status_code == 400
    assert "thumbnail" in response.json()["fields"]


def test_thumbnail_is_cleared_with_null(admin_api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    platform = PlatformFactory(thumbnail=SimpleUploadedFile("logo.png", b"\x89PNG"))
    response = admin_api.patch(url(platform), {"thumbnail": None}, format="json")
    assert response.status_code == 200
    assert response.json()["thumbnail"] is None
    platform.refresh_from_db()
    assert not platform.thumbnail


# --- validation ----------------------------------------------------------------


def test_second_master_is_400_naming_master_and_writes_nothing(admin_api):
    PlatformFactory(master=True)
    response = admin_api.post(url(), {"name": "B", "domain": "b.test", "master": True})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "master" in response.json()["fields"]
    assert (
        "master: Another platform is already the master." in (response.json()["detail"])
    )
    assert not Platform.objects.filter(name="B").exists()


def test_making_a_second_platform_master_is_400(admin_api):
    PlatformFactory(master=True)
    other = PlatformFactory()
    response = admin_api.patch(url(other), {"master": True}, format="json")
    assert response.status_code == 400
    assert "master" in response.json()["fields"]
    other.refresh_from_db()
    assert other.master is False


def test_the_master_can_be_saved_again(admin_api):
    master = PlatformFactory(master=True)
    response = admin_api.patch(url(master), {"master": True, "order": 1}, format="json")
    assert response.status_code == 200


def test_taken_domain_is_400_naming_domain_whatever_its_case(admin_api):
    PlatformFactory(domain="b.test")
    response = admin_api.post(url(), {"name": "B", "domain": "B.TEST"})
    assert response.status_code == 400
    assert "domain" in response.json()["fields"]
    assert Platform.objects.count() == 1


@pytest.mark.parametrize("domain", ["http://b.test", "b.test/path", "b .test", ""])
def test_malformed_domain_is_400_naming_domain(admin_api, domain):
    response = admin_api.post(url(), {"name": "B", "domain": domain})
    assert response.status_code == 400
    assert "domain" in response.json()["fields"]
    assert not Platform.objects.exists()


def test_malformed_signing_secret_is_400(admin_api):
    response = admin_api.post(
        url(), {"name": "B", "domain": "b.test", "signing_secret": "plain"}
    )
    assert response.status_code == 400
    assert "signing_secret" in response.json()["fields"]


def test_taken_api_token_is_400(admin_api):
    taken = PlatformFactory()
    response = admin_api.post(
        url(), {"name": "B", "domain": "b.test", "api_token": taken.api_token}
    )
    assert response.status_code == 400
    assert "api_token" in response.json()["fields"]


def test_platform_used_by_a_sync_cannot_be_deleted(admin_api):
    sync = SyncFactory()
    response = admin_api.delete(url(sync.target_platform))
    assert response.status_code == 409
    assert response.json() == {
        "error": "protected",
        "detail": "Cannot delete: still used by 1 sync. Change or delete those first.",
    }
    assert Platform.objects.filter(pk=sync.target_platform_id).exists()


def test_unknown_platform_is_404_json(admin_api):
    response = admin_api.get("/api/platforms/999999/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("pk", ["abc", "99999999999999999999999", "-1"])
def test_malformed_platform_id_is_404_json(admin_api, pk):
    response = admin_api.get(f"/api/platforms/{pk}/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
