"""Helpers for PostgreSQL tests with real concurrency: work in threads, each on its own connection,
on data committed in its own organization (deleted afterwards instead of relying on a flush)."""

import threading
import uuid

from django.db import connection


def in_thread(fn, *args):
    """Run fn in a fresh thread with its own connection (closed afterwards); re-raise its error."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # surfaced to the test below
            result["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if "error" in result:
        raise result["error"]
    return result.get("value")


def create_committed_session() -> uuid.UUID:
    from apps.accounts.models import Organization
    from apps.agents.models import Agent
    from apps.sessions.services import session_create

    # Its own organization: independent of data other tests may have flushed.
    organization = Organization.objects.create(name="concurrency test")
    agent = Agent.objects.create(organization=organization, name="concurrency", system_prompt="x")
    return session_create(organization=organization, agent=agent).pk


def delete_committed_session(session_id: uuid.UUID) -> None:
    from apps.accounts.models import Organization
    from apps.sessions.models import Session

    organization_id = Session.objects.filter(pk=session_id).values_list("organization_id", flat=True).first()
    Organization.objects.filter(pk=organization_id).delete()  # cascades to the agent, session, events


def committed_session_fixture():
    session_id = in_thread(create_committed_session)
    yield session_id
    in_thread(delete_committed_session, session_id)
