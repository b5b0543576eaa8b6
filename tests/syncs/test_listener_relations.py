"""Platform relations changed in code travel as the admin's field makes them."""

import pytest
from django.db import transaction

from platforms.services import (
    platform_relations_add,
    platform_relations_remove,
    platform_relations_set,
)
from syncs.models import OutboxEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _updates_of(username: str) -> int:
    return OutboxEvent.objects.filter(
        event_type="updated", object_key=[username]
    ).count()


@pytest.mark.parametrize(
    "change",
    [platform_relations_add, platform_relations_remove, platform_relations_set],
)
def test_a_relations_change_in_code_records_an_update(user_sync, target, change):
    ada = UserFactory(username="ada")

    change(record=ada, platforms=[target])

    assert _updates_of("ada") == 1


def test_relations_of_an_unsynced_model_record_nothing(user_sync, target):
    platform_relations_set(record=user_sync, platforms=[target])
    assert not OutboxEvent.objects.filter(event_type="updated").exists()


def test_a_relations_change_rolled_back_records_nothing(user_sync, target):
    ada = UserFactory(username="ada")
    with transaction.atomic():
        platform_relations_set(record=ada, platforms=[target])
        transaction.set_rollback(True)
    assert _updates_of("ada") == 0
