"""sync_keys: list keys, rotate one, retire the shared secrets."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from platforms.keys import platform_key_issue
from platforms.models import Platform
from tests.factories import PlatformFactory

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command("sync_keys", *args, stdout=out)
    return out.getvalue()


def test_list_names_each_key_by_its_public_prefix_never_a_private_key(master):
    key = platform_key_issue(platform=master)

    output = _run()

    assert f"{master.domain}: {key.public_key[:17]}…" in output
    assert "current" in output and "not used here" in output
    assert key.private_key not in output


def test_rotate_issues_a_new_key_and_the_old_one_retires_after_the_overlap(master):
    old = platform_key_issue(platform=master)

    output = _run("--rotate", master.domain, "--overlap", "120")

    old.refresh_from_db()
    new = master.keys.exclude(pk=old.pk).get()
    assert (new.retires_at, (old.retires_at - new.created_at).total_seconds()) == (
        None,
        120,
    )
    assert f"new key {new.public_key[:17]}… issued" in output
    assert "retires in" in output


def test_rotate_pushes_and_fails_naming_a_platform_that_did_not_take_it(master):
    unreachable = PlatformFactory(domain="unreachable.invalid")

    with pytest.raises(CommandError, match=r"unreachable\.invalid did not take"):
        _run("--rotate", unreachable.domain)

    assert unreachable.keys.count() == 1


def test_retire_secrets_blanks_every_shared_secret(master):
    PlatformFactory.create_batch(2)

    with pytest.raises(CommandError):  # the factories' domains do not resolve
        _run("--retire-secrets")

    assert not Platform.objects.exclude(signing_secret="").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rotate", "nobody.test"], "no platform with the domain nobody.test"),
        (["--rotate", "a.test", "--overlap", "-1"], "0 or more"),
    ],
)
def test_bad_arguments_are_clear_errors(master, args, message):
    with pytest.raises(CommandError, match=message):
        _run(*args)


def test_only_the_master_rotates(current_platform):
    with pytest.raises(CommandError, match="Only the master"):
        _run("--rotate", current_platform.domain)
