"""Fixtures for sessions, messages, events and SSE tests."""

import pytest

from apps.core.ids import format_id
from tests.sessions.pg import committed_session_fixture

# PostgreSQL concurrency tests (tests/sessions/pg.py): a session committed in its own organization.
committed_session = pytest.fixture(committed_session_fixture, name="committed_session")


@pytest.fixture
def agent_id(agent) -> str:
    return format_id("agent", agent.public_id)


@pytest.fixture
def make_model(default_org):
    """make_model(org=default_org) -> an LlmModel of a fresh provider."""
    from apps.llm.models import LlmModel, LlmProvider

    def _make(org=None, model_id: str = "sim-1"):
        org = org or default_org
        provider = LlmProvider.objects.create(organization=org, name=f"p-{model_id}", provider_type="llmsim")
        return LlmModel.objects.create(organization=org, provider=provider, model_id=model_id, display_name=model_id)

    return _make


@pytest.fixture
def session_url(session) -> str:
    return f"/v1/sessions/{format_id('session', session.pk)}"
