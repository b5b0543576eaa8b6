"""factory-boy factories for the project's models."""

import uuid

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from platforms.credentials import api_token_generate, signing_secret_generate
from platforms.models import Platform
from syncs.models import OutboxEvent, Sync
from webhooks.models import InboxEvent


class PlatformFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Platform

    name = factory.Sequence(lambda n: f"Platform {n}")
    domain = factory.Sequence(lambda n: f"p{n}.test")
    scheme = Platform.Scheme.HTTP
    api_token = factory.LazyFunction(api_token_generate)
    signing_secret = factory.LazyFunction(signing_secret_generate)


class SyncFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sync

    source_platform = factory.SubFactory(PlatformFactory)
    source_model = "auth.User"
    target_platform = factory.SubFactory(PlatformFactory)
    target_model = "auth.User"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("secret-pass-123")


class AdminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


def outbox_event(sync, key, **fields) -> OutboxEvent:
    """Store an event as the listener would, for ``sync``'s target platform."""
    values = {
        "target_platform": sync.target_platform,
        "event_type": "updated",
        "object_pk": "1",
        "next_attempt_at": timezone.now(),
    }
    return OutboxEvent.objects.create(sync=sync, object_key=key, **(values | fields))


def inbox_event_build(sync, key, **fields) -> InboxEvent:
    """Return an event as the webhook receives it, for ``sync``'s target model."""
    values = {
        "source_platform": sync.source_platform,
        "event_id": f"evt-{uuid.uuid4().hex}",
        "version": 1,
        "event_type": "updated",
        "model_label": sync.target_model,
        "data": {},
    }
    return InboxEvent(sync=sync, object_key=key, **(values | fields))


def inbox_event(sync, key, **fields) -> InboxEvent:
    """Store an event as the webhook would, for ``sync``'s target model."""
    event = inbox_event_build(sync, key, **fields)
    event.save()
    return event
