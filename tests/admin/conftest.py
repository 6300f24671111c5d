"""Fixtures of the admin tests: a staff operator, sessions with real turns (completed, failed, running).

Turns run inline through the runtime (apps.runtime.services), against the fake provider servers for a
failure; nothing here writes a status directly: claims, cancels and retries go through the services.
"""

import pytest

from apps.accounts.models import User
from apps.runtime.services import TurnRunner, turn_claim, turn_run_pending
from apps.sessions.models import Session, Turn
from apps.sessions.services import message_create
from tests.fakes import Error

PASSWORD = "S3cure-pass!"


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_superuser(email="ops@example.com", password=PASSWORD)


@pytest.fixture
def staff(client, operator):
    client.force_login(operator)
    return client


def say(session: Session, text: str) -> None:
    """A user message, then its turn run to the end by this thread (as a worker would)."""
    message_create(session=session, content=[{"type": "text", "text": text}])
    turn_run_pending(session_id=session.pk)


def start_turn(session: Session, text: str, worker_id: str = "worker-test") -> Turn:
    """A user message whose turn a worker claimed and is running (it has not reached its first step)."""
    message_create(session=session, content=[{"type": "text", "text": text}])
    turn = turn_claim(session_id=session.pk, worker_id=worker_id)
    assert turn is not None and turn.status == Turn.STATUS_RUNNING
    return turn


def worker_continues(turn: Turn, worker_id: str = "worker-test") -> None:
    """The worker holding `turn` reaches its next checkpoint (and honours a cancel there)."""
    TurnRunner(turn, worker_id).run()


@pytest.fixture
def fake_model(default_org, openai_server, settings):
    """A model served by the fake OpenAI server (script it with `openai_server.queue(...)`)."""
    from apps.llm.models import LlmModel, LlmProvider
    from apps.llm.services import llm_provider_set_api_key

    settings.LLM_ALLOW_PRIVATE_BASE_URLS = True  # the fake listens on 127.0.0.1
    settings.RUNTIME_LLM_RETRY_BASE_SECS = 0
    provider = LlmProvider.objects.create(
        organization=default_org, name="Fake upstream", provider_type="openai", base_url=openai_server.base_url
    )
    llm_provider_set_api_key(provider=provider, api_key="sk-test")
    return LlmModel.objects.create(
        organization=default_org, provider=provider, model_id="gpt-fake", display_name="Fake"
    )


@pytest.fixture
def failing_model(fake_model, openai_server):
    """The fake model answering 400 to every call: every turn on it fails."""
    openai_server.queue(*[Error(400, "bad request")] * 20)
    return fake_model


@pytest.fixture
def make_provider(default_org, settings):
    """make_provider(name, base_url, api_key) -> an OpenAI-type provider created through the service."""
    from apps.llm.services import llm_provider_create

    settings.LLM_ALLOW_PRIVATE_BASE_URLS = True  # the fakes listen on 127.0.0.1

    def _make(name: str, base_url: str, api_key: str = "sk-test"):
        return llm_provider_create(
            organization=default_org, name=name, provider_type="openai", base_url=base_url, api_key=api_key
        )

    return _make
