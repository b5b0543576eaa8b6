"""The harness (harness/) that end-to-end tests and benchmarks share."""

import pytest

from demo.cluster import PlatformSpec
from harness.cluster import PlatformProcess
from harness.processes import free_port


@pytest.fixture
def platform(tmp_path) -> PlatformProcess:
    """A platform laid out but not started: code runs in its env all the same."""
    spec = PlatformSpec(key="h", name="H", port=free_port(), folder=tmp_path)
    return PlatformProcess(spec, spec.env())


def test_call_runs_a_function_in_the_platforms_env_with_json_arguments(platform):
    found = platform.call("os.getenv", "SYNC_PLATFORM_DOMAIN", None)

    assert found == platform.spec.domain


def test_a_call_that_raises_fails_naming_the_platform_and_the_error(platform):
    with pytest.raises(AssertionError, match=r"(?s)^h: .*ModuleNotFoundError"):
        platform.call("no_such_module.function")
