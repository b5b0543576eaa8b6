"""What a received envelope may touch: the allow-list and field rules, no HTTP."""

import pytest

from syncs.models import Sync
from tests.factories import SyncFactory
from tests.webhooks.signed import user_event
from webhooks.envelope import envelope_sync_for, fields_check
from webhooks.signed import SignedRequestRefused

pytestmark = pytest.mark.django_db


def _sync(**fields) -> Sync:
    return Sync(**({"source_model": "auth.User", "target_model": "auth.User"} | fields))


# --- field check ----------------------------------------------------------------------


def test_concrete_fields_and_many_to_many_are_writable():
    fields_check(_sync(), {"username": "a", "groups": [], "last_login": None})


@pytest.mark.parametrize("name", ["id", "pk", "logentry", "nickname", "groups__name"])
def test_other_names_are_unknown_fields(name):
    with pytest.raises(SignedRequestRefused) as refused:
        fields_check(_sync(), {name: 1})

    assert (refused.value.code, refused.value.status) == ("unknown_field", 400)


def test_target_model_not_installed_is_refused():
    with pytest.raises(SignedRequestRefused) as refused:
        fields_check(_sync(target_model="shop.Product"), {"name": "x"})

    assert (refused.value.code, refused.value.status) == ("model_not_allowed", 403)


# --- allow-list -----------------------------------------------------------------------


def test_sync_for_event_is_looked_up_once_per_model(
    source, current_platform, user_sync, django_assert_num_queries
):
    cache: dict = {}
    event = user_event("alice")

    with django_assert_num_queries(1):
        for _ in range(3):
            found = envelope_sync_for(
                event, source=source, target=current_platform, syncs=cache
            )

    assert found == user_sync


def test_oldest_of_several_matching_syncs_is_used(source, current_platform, user_sync):
    SyncFactory(source_platform=source, target_platform=current_platform)

    found = envelope_sync_for(
        user_event("alice"), source=source, target=current_platform, syncs={}
    )

    assert found == user_sync
