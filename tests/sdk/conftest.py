"""The official SDK (everruns-sdk 0.3.1, unchanged) against a live server, authenticated with a real API key.

`sdk` is an `Everruns` client whose async methods are run to completion on one event loop per test, so tests
read like the SDK's own examples without `await`: `sdk.agents.create("helper", "You help.")`. The key is an
`evr_…` key of `sdk_owner`, the owner of a fresh organization `sdk_org`, under AUTH_MODE=full: requests go
through the real key check and organization scoping, like any SDK user's.

Every test here uses `live_server`, so it runs with a transactional database and serialized rollback
(tests/conftest.py gives every transactional test that): the migration-seeded rows are back afterwards.
"""

import asyncio
import inspect
from typing import Any

import pytest

everruns_sdk = pytest.importorskip("everruns_sdk")


def pytest_collection_modifyitems(items):
    # sessions.create and messages.create warn that applications should call agents with an agent key.
    quiet = pytest.mark.filterwarnings("ignore:Everruns\\.(sessions|messages)\\.create:DeprecationWarning")
    for item in items:
        if "/tests/sdk/" in str(item.path).replace("\\", "/"):
            item.add_marker(quiet)


class Sync:
    """Runs the wrapped SDK object's coroutine methods on `loop`; sub-clients come back wrapped too."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if inspect.iscoroutinefunction(value):
            return lambda *args, **kwargs: self._loop.run_until_complete(value(*args, **kwargs))
        if name == "with_reason":
            return lambda *args, **kwargs: Sync(value(*args, **kwargs), self._loop)
        if type(value).__module__.startswith("everruns_sdk.client"):
            return Sync(value, self._loop)
        return value


@pytest.fixture
def sdk_org(make_org):
    return make_org("SDK Org")


@pytest.fixture
def sdk_owner(sdk_org):
    from apps.accounts.models import Membership, User

    user = User.objects.create_user(email="sdk-owner@example.com", password="S3cure-pass!", name="SDK owner")
    Membership.objects.create(user=user, organization=sdk_org, role="owner")
    return user


@pytest.fixture
def sdk_key(full_auth, sdk_owner, sdk_org) -> str:
    """A real `evr_…` API key of the SDK organization's owner."""
    from apps.accounts.services import api_key_create

    _, raw_key = api_key_create(user=sdk_owner, organization=sdk_org, name="sdk tests")
    assert raw_key.startswith("evr_")
    return raw_key


@pytest.fixture
def make_sdk(live_server):
    """make_sdk(api_key) -> a synchronous view of an `Everruns` client on the live server (closed afterwards)."""
    loop = asyncio.new_event_loop()
    clients: list = []

    def _make(api_key: str) -> Any:
        client = everruns_sdk.Everruns(api_key=api_key, base_url=live_server.url)
        clients.append(client)
        return Sync(client, loop)

    yield _make
    for client in clients:
        loop.run_until_complete(client.close())
    loop.close()


@pytest.fixture
def sdk(make_sdk, sdk_key):
    return make_sdk(sdk_key)
