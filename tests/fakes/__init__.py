"""Local fake LLM provider servers for tests (see tests/fakes/base.py); fixtures in tests/fakes/plugin.py."""

from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.base import Error, FakeRequest, Reply, ToolCall
from tests.fakes.openai_server import FakeOpenAIServer

__all__ = ["Error", "FakeAnthropicServer", "FakeOpenAIServer", "FakeRequest", "Reply", "ToolCall"]
