"""The runtime tests' helpers (agents and sessions through the API, turns inline, providers on the fakes)."""

from tests.runtime.conftest import _fakes_are_on_loopback, _fast_runtime, make_chat, make_model  # noqa: F401
