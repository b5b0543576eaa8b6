from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from platforms.conf import sync_settings
from platforms.models import Platform
from tests.factories import PlatformFactory, UserFactory

pytestmark = pytest.mark.django_db


def install(*args: str) -> str:
    """Run mooxsync_install and return what it printed."""
    out = StringIO()
    call_command("mooxsync_install", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_install_creates_this_platform_with_credentials(settings):
    output = install()

    platform = Platform.objects.get()
    assert platform.domain == sync_settings.SYNC_PLATFORM_DOMAIN
    assert platform.name == sync_settings.SYNC_PLATFORM_DOMAIN
    assert platform.scheme == Platform.Scheme.HTTPS
    assert not platform.master
    assert len(platform.api_token) == 80
    assert platform.signing_secret == ""  # no shared secret in a new cluster
    assert not platform.keys.exists()  # the master issues it
    assert platform.is_current
    assert "no migrations to apply" in output
    assert platform.api_token in output
    assert "SYNC_PLATFORM_DOMAIN=a.test" in output
    assert "celery -A mooxsync worker" in output


def test_install_takes_domain_name_and_scheme_from_options():
    install("--domain", "B.test:8002", "--name", "B", "--scheme", "http")

    platform = Platform.objects.get()
    assert (platform.domain, platform.name) == ("b.test:8002", "B")
    assert platform.base_url == "http://b.test:8002"


def test_installing_the_master_issues_its_own_key():
    output = install("--master")

    key = Platform.objects.get().keys.get()
    assert key.public_key.startswith("whpk_") and key.private_key.startswith("whsk_")
    assert key.retires_at is None
    assert key.private_key not in output and "Signing key: issued" in output


def test_second_install_changes_nothing():
    install("--master")
    before = Platform.objects.get()

    output = install("--master")

    after = Platform.objects.get()
    assert after.api_token == before.api_token
    assert list(after.keys.all()) == list(before.keys.all())
    assert after.updated_at == before.updated_at
    assert "Platform a.test already exists; nothing changed." in output
    assert before.api_token not in output


def test_master_option_makes_the_platform_master():
    output = install("--master")

    assert Platform.objects.get().master
    assert "the master" in output


def test_second_master_is_refused():
    PlatformFactory(master=True, domain="b.test")

    with pytest.raises(CommandError, match="Another platform is already the master"):
        install("--master")

    assert not Platform.objects.filter(domain="a.test").exists()


def test_name_in_use_is_refused():
    PlatformFactory(name="A", domain="b.test")

    with pytest.raises(CommandError, match="name: "):
        install("--name", "A")

    assert not Platform.objects.filter(domain="a.test").exists()


@pytest.mark.parametrize("domain", ["http://x.test", "x.test/path", "x .test"])
def test_malformed_domain_is_refused(domain):
    with pytest.raises(CommandError, match="not a host name"):
        install("--domain", domain)

    assert not Platform.objects.exists()


def test_malformed_domain_setting_is_refused(settings):
    settings.SYNC_PLATFORM_DOMAIN = "not a domain"

    with pytest.raises(CommandError, match="SYNC_PLATFORM_DOMAIN"):
        install()


def test_install_creates_an_admin_user():
    output = install(
        "--admin-username=admin",
        "--admin-email=admin@example.com",
        "--admin-password=admin",
        "--noinput",
    )

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.is_staff
    assert admin.email == "admin@example.com"
    assert admin.check_password("admin")
    assert "Created admin user admin." in output


def test_admin_password_may_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "from-the-env-123")

    install("--admin-username=admin", "--noinput")

    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("from-the-env-123")


def test_existing_admin_user_is_left_alone():
    UserFactory(username="admin", password="first-password")

    output = install("--admin-username=admin", "--admin-password=other", "--noinput")

    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("first-password")
    assert not admin.is_superuser
    assert "Admin user admin already exists; nothing changed." in output


def test_noinput_without_admin_password_is_refused_before_writing(monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="DJANGO_SUPERUSER_PASSWORD"):
        install("--admin-username=admin", "--noinput")

    assert not Platform.objects.exists()


def test_malformed_admin_username_is_refused_before_writing():
    with pytest.raises(CommandError, match="--admin-username"):
        install("--admin-username=a b", "--admin-password=x", "--noinput")

    assert not Platform.objects.exists()


def test_admin_options_need_a_username():
    with pytest.raises(CommandError, match="need --admin-username"):
        install("--admin-password=secret")
