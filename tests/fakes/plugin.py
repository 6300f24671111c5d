"""pytest fixtures for the fake provider servers (registered in tests/conftest.py via pytest_plugins).

def test_something(openai_server):
    openai_server.queue(Reply(text="hi"))
    client = openai.OpenAI(base_url=openai_server.base_url, api_key="sk-test")
"""

from collections.abc import Iterator

import pytest

from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.openai_server import FakeOpenAIServer


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAIServer]:
    """A running fake OpenAI server (Responses, Chat Completions, models); base_url ends in /v1."""
    with FakeOpenAIServer() as server:
        yield server


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    """A running fake Anthropic server (Messages, models); base_url is the root URL."""
    with FakeAnthropicServer() as server:
        yield server
