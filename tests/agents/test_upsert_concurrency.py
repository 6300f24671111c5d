"""Concurrent PUTs of one new agent id on PostgreSQL: one creates, the others update, none fails."""

import threading

import pytest
from django.db import connection

from apps.core.ids import uuid7

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_racing_upserts_of_a_new_id_create_exactly_one_agent():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    from apps.accounts.models import DEFAULT_ORG_ID, Organization
    from apps.agents.models import Agent
    from apps.agents.services import agent_upsert

    public_id, writers = uuid7(), 6
    barrier = threading.Barrier(writers)
    outcomes: list = []

    def put(index: int) -> None:
        try:
            organization = Organization.objects.get(pk=DEFAULT_ORG_ID)
            barrier.wait()
            _, created = agent_upsert(
                organization=organization, public_id=public_id, data={"name": f"writer {index}", "system_prompt": "p"}
            )
            outcomes.append(created)
        except BaseException as exc:  # reported by the assertion below
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=put, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert sorted(outcomes, key=str) == [False] * (writers - 1) + [True]
        assert Agent.objects.filter(public_id=public_id).count() == 1
    finally:
        # Committed rows: delete them on a connection of their own (the test's transaction is rolled back).
        cleanup = threading.Thread(target=_delete, args=(public_id,))
        cleanup.start()
        cleanup.join(60)


def _delete(public_id) -> None:
    from apps.agents.models import Agent

    try:
        Agent.objects.filter(public_id=public_id).delete()
    finally:
        connection.close()
