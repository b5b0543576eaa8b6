"""The sync form names the privileged fields and warns when a sync writes them."""

import pytest
from django.contrib.messages import get_messages

from syncs.models import Sync
from tests.factories import PlatformFactory, SyncFactory
from tests.syncs.test_admin import ADD_URL, change_url, sync_form

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_form_lists_the_privileged_fields_of_this_platform(
    admin_client, current_platform
):
    html = admin_client.get(ADD_URL).content.decode()

    assert "Privileged fields are written only when a line names them" in html
    assert "auth.User: is_staff, is_superuser, password, user_permissions" in html


def test_saving_a_sync_that_writes_privileged_fields_warns(
    admin_client, current_platform
):
    target = PlatformFactory(domain="b.test")
    form = sync_form(
        current_platform,
        target,
        field_mappings="password=password\nis_staff=is_staff\nemail=email",
    )

    shown = _messages(admin_client.post(ADD_URL, form, follow=True))

    assert Sync.objects.get().field_mappings["is_staff"] == "is_staff"
    warning = next(m for m in shown if m.startswith("This sync writes privileged"))
    assert "of auth.User on its target: is_staff, password." in warning
    assert "the target's own records with the same key" in warning


def test_saving_an_all_fields_sync_does_not_warn(admin_client, current_platform):
    target = PlatformFactory(domain="b.test")

    shown = _messages(
        admin_client.post(ADD_URL, sync_form(current_platform, target), follow=True)
    )

    assert not [m for m in shown if "privileged" in m]


def test_form_of_a_sync_that_writes_privileged_fields_shows_the_warning(
    admin_client, current_platform
):
    sync = SyncFactory(
        source_platform=current_platform,
        target_platform=PlatformFactory(domain="b.test"),
        field_mappings={"is_superuser": "is_superuser"},
    )

    html = admin_client.get(change_url(sync)).content.decode()

    assert "sync-privileged-warning" in html
    assert "auth.User on its target: is_superuser." in html
