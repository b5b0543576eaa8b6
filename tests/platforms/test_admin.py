import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from platforms.credentials import SECRET_PREFIX
from platforms.keys import platform_key_issue
from platforms.models import Platform
from tests.factories import PlatformFactory, SyncFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:platforms_platform_add")
CHANGELIST_URL = reverse("admin:platforms_platform_changelist")


def change_url(platform: Platform) -> str:
    return reverse("admin:platforms_platform_change", args=[platform.pk])


def platform_form(**values) -> dict:
    """Return the POST data of the platform form, booleans as checkboxes."""
    data = {
        "name": "B",
        "domain": "b.test",
        "scheme": "http",
        "ip_address": "",
        "api_token": "",
        "signing_secret": "",
        "lock_reason": "",
        "order": "0",
        **values,
    }
    return {
        key: "on" if value is True else value
        for key, value in data.items()
        if value is not False
    }


def platform_change_form(platform: Platform, **values) -> dict:
    """Return the POST data of a platform's change page, with its sync lists."""
    current = {
        "name": platform.name,
        "domain": platform.domain,
        "ip_address": platform.ip_address or "",
        "api_token": platform.api_token or "",
        "signing_secret": platform.signing_secret,
        "master": platform.master,
    }
    data = platform_form(**(current | values))
    for prefix, related in [
        ("keys", platform.keys),
        ("syncs_as_source", platform.syncs_as_source),
        ("syncs_as_target", platform.syncs_as_target),
    ]:
        count = str(related.count())
        data |= {f"{prefix}-TOTAL_FORMS": count, f"{prefix}-INITIAL_FORMS": count}
    return data


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_changelist_lists_platforms_with_token_flag_but_not_the_token(admin_client):
    platform = PlatformFactory(name="Alpha", thumbnail="platforms/thumbnails/a.png")
    response = admin_client.get(CHANGELIST_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Alpha" in html
    assert '<img src="/media/platforms/thumbnails/a.png"' in html
    assert 'alt="True"' in html  # the "has token" icon
    assert platform.api_token not in html


def test_changelist_filters_by_master(admin_client):
    PlatformFactory(name="Master", master=True)
    PlatformFactory(name="Follower")
    response = admin_client.get(CHANGELIST_URL, {"master__exact": "1"})
    names = [p.name for p in response.context["cl"].result_list]
    assert names == ["Master"]


@pytest.mark.parametrize("query", ["Alpha", "alpha.example"])
def test_changelist_searches_name_and_domain(admin_client, query):
    PlatformFactory(name="Alpha", domain="alpha.example.com")
    PlatformFactory(name="Beta", domain="beta.example.com")
    response = admin_client.get(CHANGELIST_URL, {"q": query})
    names = [p.name for p in response.context["cl"].result_list]
    assert names == ["Alpha"]


def test_changelist_is_ordered_by_order(admin_client):
    PlatformFactory(name="Second", order=2)
    PlatformFactory(name="First", order=1)
    response = admin_client.get(CHANGELIST_URL)
    names = [p.name for p in response.context["cl"].result_list]
    assert names == ["First", "Second"]


def test_add_and_change_forms_render(admin_client):
    platform = PlatformFactory()
    add = admin_client.get(ADD_URL)
    change = admin_client.get(change_url(platform))
    assert add.status_code == change.status_code == 200
    assert 'name="generate_api_token"' in add.content.decode()
    assert platform.domain in change.content.decode()


def test_adding_a_platform_generates_a_token_and_no_shared_secret(admin_client):
    response = admin_client.post(ADD_URL, platform_form())
    assert response.status_code == 302
    platform = Platform.objects.get(name="B")
    assert len(platform.api_token) == 80
    assert platform.signing_secret == ""


def test_adding_a_platform_on_the_master_issues_its_key(admin_client, current_platform):
    current_platform.master = True
    current_platform.save()

    admin_client.post(ADD_URL, platform_form())

    key = Platform.objects.get(name="B").keys.get()
    assert key.public_key.startswith("whpk_") and key.retires_at is None


def test_key_list_shows_age_and_use_never_a_private_key(admin_client):
    platform = PlatformFactory()
    key = platform_key_issue(platform=platform)

    html = admin_client.get(change_url(platform)).content.decode()

    assert key.public_key[:17] in html and key.public_key not in html
    assert key.private_key not in html
    assert "last used here" in html.lower() and "age" in html.lower()


def test_rotating_keys_on_the_master_issues_new_ones_and_pushes(
    admin_client, current_platform, settings
):
    current_platform.master = True
    current_platform.save()
    platform = PlatformFactory()
    old = platform_key_issue(platform=platform)

    response = admin_client.post(
        CHANGELIST_URL,
        {"action": "rotate_signing_keys", "_selected_action": [platform.pk]},
        follow=True,
    )

    old.refresh_from_db()
    assert platform.keys.count() == 2 and old.retires_at is not None
    assert any("Issued a new signing key" in m for m in messages_of(response))
    # The push ran (the platform is unreachable here: it says so).
    assert any(platform.domain in m for m in messages_of(response))


def test_rotating_keys_elsewhere_is_refused(admin_client, current_platform):
    platform = PlatformFactory()

    response = admin_client.post(
        CHANGELIST_URL,
        {"action": "rotate_signing_keys", "_selected_action": [platform.pk]},
        follow=True,
    )

    assert not platform.keys.exists()
    assert "Only the master issues signing keys." in messages_of(response)


def test_adding_a_platform_keeps_given_credentials(admin_client):
    secret = SECRET_PREFIX + "A" * 44
    admin_client.post(ADD_URL, platform_form(api_token="given", signing_secret=secret))
    platform = Platform.objects.get(name="B")
    assert (platform.api_token, platform.signing_secret) == ("given", secret)


def test_generate_token_checkbox_replaces_the_token(admin_client):
    platform = PlatformFactory()
    old_token = platform.api_token
    response = admin_client.post(
        change_url(platform), platform_change_form(platform, generate_api_token=True)
    )
    assert response.status_code == 302
    platform.refresh_from_db()
    assert platform.api_token != old_token
    assert len(platform.api_token) == 80
    assert f"A new API token was generated for {platform}." in messages_of(response)


def test_saving_without_the_checkbox_keeps_the_token(admin_client):
    platform = PlatformFactory()
    old_token = platform.api_token
    admin_client.post(change_url(platform), platform_change_form(platform))
    platform.refresh_from_db()
    assert platform.api_token == old_token


def test_generate_tokens_action_replaces_the_selected_tokens(admin_client):
    chosen, other = PlatformFactory(), PlatformFactory()
    old = {p.pk: p.api_token for p in (chosen, other)}
    response = admin_client.post(
        CHANGELIST_URL,
        {"action": "generate_api_tokens", "_selected_action": [chosen.pk]},
    )
    assert response.status_code == 302
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.api_token != old[chosen.pk]
    assert other.api_token == old[other.pk]
    assert "Generated a new API token for 1 platform." in messages_of(response)


def test_second_master_is_refused_with_a_form_error(admin_client):
    PlatformFactory(master=True)
    response = admin_client.post(ADD_URL, platform_form(master=True))
    assert response.status_code == 200
    assert "Another platform is already the master." in response.content.decode()
    assert not Platform.objects.filter(name="B").exists()


def test_making_a_second_platform_master_is_refused(admin_client):
    PlatformFactory(master=True)
    platform = PlatformFactory()
    response = admin_client.post(
        change_url(platform), platform_change_form(platform, master=True)
    )
    assert "Another platform is already the master." in response.content.decode()
    platform.refresh_from_db()
    assert platform.master is False


@pytest.mark.parametrize("domain", ["127.0.0.1:8001", "localhost:8001"])
def test_saving_stores_the_ip_address_of_the_domain(admin_client, domain):
    response = admin_client.post(ADD_URL, platform_form(domain=domain))
    assert response.status_code == 302
    assert Platform.objects.get(name="B").ip_address == "127.0.0.1"
    assert not [m for m in messages_of(response) if "Could not resolve" in m]


def test_unresolvable_domain_is_saved_with_a_warning(admin_client):
    response = admin_client.post(ADD_URL, platform_form(domain="no-such-host.invalid"))
    assert response.status_code == 302
    assert Platform.objects.get(name="B").ip_address is None
    warnings = [m for m in messages_of(response) if m.startswith("Could not resolve")]
    assert warnings
    assert warnings[0].startswith("Could not resolve no-such-host.invalid: ")


def test_typed_ip_address_wins_over_the_lookup(admin_client):
    admin_client.post(ADD_URL, platform_form(domain="localhost", ip_address="10.0.0.7"))
    assert Platform.objects.get(name="B").ip_address == "10.0.0.7"


def test_changed_domain_is_looked_up_again(admin_client):
    platform = PlatformFactory(domain="no-such-host.invalid", ip_address="10.0.0.7")
    admin_client.post(
        change_url(platform), platform_change_form(platform, domain="127.0.0.1")
    )
    platform.refresh_from_db()
    assert platform.ip_address == "127.0.0.1"


def test_platform_page_lists_its_syncs_with_links(admin_client):
    platform = PlatformFactory()
    outgoing = SyncFactory(source_platform=platform, title="Outgoing")
    incoming = SyncFactory(target_platform=platform, title="Incoming")
    unrelated = SyncFactory(title="Unrelated")
    html = admin_client.get(change_url(platform)).content.decode()
    for sync in (outgoing, incoming):
        url = reverse("admin:syncs_sync_change", args=[sync.pk])
        assert f'<a href="{url}">{sync.title}</a>' in html
    assert "Syncs from this platform" in html
    assert "Syncs to this platform" in html
    assert unrelated.title not in html


def test_platform_sync_lists_are_read_only(admin_client):
    platform = PlatformFactory()
    sync = SyncFactory(source_platform=platform, title="Outgoing")
    html = admin_client.get(change_url(platform)).content.decode()
    assert "syncs_as_source-0-DELETE" not in html
    assert 'name="syncs_as_source-MAX_NUM_FORMS" value="0"' in html
    response = admin_client.post(change_url(platform), platform_change_form(platform))
    assert response.status_code == 302
    sync.refresh_from_db()
    assert sync.source_platform == platform


def test_add_page_has_no_sync_lists(admin_client):
    html = admin_client.get(ADD_URL).content.decode()
    assert "syncs_as_source" not in html


def test_platform_used_by_a_sync_cannot_be_deleted(admin_client):
    platform = PlatformFactory()
    SyncFactory(source_platform=platform)
    url = reverse("admin:platforms_platform_delete", args=[platform.pk])
    page = admin_client.get(url)
    response = admin_client.post(url, {"post": "yes"})
    assert page.status_code == response.status_code == 200
    assert "protected related objects" in response.content.decode()
    assert Platform.objects.filter(pk=platform.pk).exists()


def test_bulk_delete_spares_platforms_used_by_syncs(admin_client):
    platform = PlatformFactory()
    SyncFactory(target_platform=platform)
    response = admin_client.post(
        CHANGELIST_URL,
        {"action": "delete_selected", "_selected_action": [platform.pk], "post": "yes"},
    )
    assert response.status_code == 200
    assert "protected related objects" in response.content.decode()
    assert Platform.objects.filter(pk=platform.pk).exists()
