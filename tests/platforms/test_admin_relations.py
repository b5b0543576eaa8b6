import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from platforms.services import platform_relations_get, platform_relations_set
from tests.factories import PlatformFactory, UserFactory

pytestmark = pytest.mark.django_db

USER_ADD_URL = reverse("admin:auth_user_add")


@pytest.fixture
def with_relations(settings):
    settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS = ["auth.User"]


def user_change_url(user: User) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def user_change_form(user: User, **values) -> dict:
    """Return the POST data of a user's change page as it shows now."""
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "00:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    return data | values


def names(platforms) -> set[str]:
    return {platform.name for platform in platforms}


def test_the_form_of_a_model_with_relations_offers_the_platforms(
    admin_client, with_relations
):
    PlatformFactory(name="Shop")
    html = admin_client.get(USER_ADD_URL).content.decode()
    assert 'name="sync_platforms"' in html
    assert "Shop" in html


def test_other_models_get_no_platforms_field(admin_client, with_relations):
    html = admin_client.get(reverse("admin:auth_group_add")).content.decode()
    assert 'name="sync_platforms"' not in html


def test_without_the_setting_no_form_changes(admin_client, settings):
    settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS = []
    html = admin_client.get(USER_ADD_URL).content.decode()
    assert 'name="sync_platforms"' not in html


def test_adding_a_record_saves_its_platforms(admin_client, with_relations):
    shop, blog, _other = PlatformFactory(), PlatformFactory(), PlatformFactory()
    response = admin_client.post(
        USER_ADD_URL,
        {
            "username": "ada",
            "usable_password": "true",
            "password1": "a-long-secret-123",
            "password2": "a-long-secret-123",
            "sync_platforms": [shop.pk, blog.pk],
        },
    )
    assert response.status_code == 302
    ada = User.objects.get(username="ada")
    assert names(platform_relations_get(record=ada)) == {shop.name, blog.name}


def test_changing_a_record_shows_and_replaces_its_platforms(
    admin_client, with_relations
):
    shop, blog = PlatformFactory(name="Shop"), PlatformFactory(name="Blog")
    ada = UserFactory(username="ada")
    platform_relations_set(record=ada, platforms=[shop])
    page = admin_client.get(user_change_url(ada))
    form = page.context["adminform"].form
    assert form.initial["sync_platforms"] == [shop.pk]
    response = admin_client.post(
        user_change_url(ada), user_change_form(ada, sync_platforms=[blog.pk])
    )
    assert response.status_code == 302
    assert names(platform_relations_get(record=ada)) == {"Blog"}


def test_clearing_the_field_removes_every_relation(admin_client, with_relations):
    ada = UserFactory(username="ada")
    platform_relations_set(record=ada, platforms=[PlatformFactory()])
    response = admin_client.post(user_change_url(ada), user_change_form(ada))
    assert response.status_code == 302
    assert not platform_relations_get(record=ada).exists()


def test_a_viewer_sees_the_platforms_read_only(client, with_relations):
    ada = UserFactory(username="ada")
    platform_relations_set(record=ada, platforms=[PlatformFactory(name="Shop")])
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(viewer)
    html = client.get(user_change_url(ada)).content.decode()
    assert 'name="sync_platforms"' not in html
    assert '<div class="readonly">Shop</div>' in html


def test_groups_keep_working_beside_relations(admin_client, with_relations):
    group = Group.objects.create(name="staff")
    ada = UserFactory(username="ada")
    response = admin_client.post(
        user_change_url(ada), user_change_form(ada, groups=[group.pk])
    )
    assert response.status_code == 302
    assert list(ada.groups.all()) == [group]
