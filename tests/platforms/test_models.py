import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from platforms.models import Platform
from tests.factories import PlatformFactory

pytestmark = pytest.mark.django_db


def test_second_master_is_refused_by_the_database():
    PlatformFactory(master=True)
    with pytest.raises(IntegrityError):
        PlatformFactory(master=True)


def test_second_master_is_a_validation_error():
    PlatformFactory(master=True)
    other = PlatformFactory.build(master=True)
    with pytest.raises(ValidationError) as caught:
        other.full_clean()
    assert "Another platform is already the master." in str(caught.value)


def test_domain_is_unique_and_lowercased():
    PlatformFactory(domain="Sync.Example.com:8000")
    assert Platform.objects.get().domain == "sync.example.com:8000"
    with pytest.raises(IntegrityError):
        PlatformFactory(domain="sync.example.com:8000")


@pytest.mark.parametrize("domain", ["http://x.test", "x.test/path", "x .test", ""])
def test_malformed_domain_is_refused(domain):
    with pytest.raises(ValidationError) as caught:
        PlatformFactory.build(domain=domain).full_clean()
    assert "domain" in caught.value.message_dict


def test_platforms_without_token_do_not_collide():
    PlatformFactory(api_token="")
    PlatformFactory(api_token="")
    assert Platform.objects.filter(api_token=None).count() == 2
