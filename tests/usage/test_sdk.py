"""The official SDK (everruns-sdk 0.3.1, unchanged) against a live server: `budgets` (every method),
`sessions.budgets`, `sessions.budget_check` and `connections`, authenticated with a real API key.

The SDK is async; each call is run to completion on one event loop (`run`).
"""

import asyncio
from collections.abc import Iterator

import pytest

from apps.core.ids import format_id, parse_id

everruns_sdk = pytest.importorskip("everruns_sdk")

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:Everruns\\.(sessions|messages)\\.create:DeprecationWarning"),
]


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def owner(full_auth, make_org):
    from apps.accounts.models import Membership, User

    org = make_org("Budget SDK Org")
    user = User.objects.create_user(email="budget-sdk@example.com", password="S3cure-pass!", name="owner")
    Membership.objects.create(user=user, organization=org, role="owner")
    return user, org


@pytest.fixture
def api_key(owner):
    from apps.accounts.services import api_key_create

    user, org = owner
    return api_key_create(user=user, organization=org, name="budget sdk")


@pytest.fixture
def client(api_key, live_server, loop):
    client = everruns_sdk.Everruns(api_key=api_key[1], base_url=live_server.url)
    yield client
    loop.run_until_complete(client.close())


@pytest.fixture
def session_id(owner, api_key) -> str:
    """A session of the owner, made with the key (through the service: the SDK's agent and session shapes are
    another issue's; what is under test here is budgets and connections)."""
    from apps.agents.models import Agent
    from apps.sessions.services import session_create

    user, org = owner
    agent = Agent.objects.create(organization=org, name="budgeted", system_prompt="You answer briefly.")
    return format_id("session", session_create(organization=org, agent=agent, created_by=user, api_key=api_key[0]).pk)


def test_budgets_every_method(client, loop, session_id, owner, api_key):
    run = loop.run_until_complete
    budget = run(client.budgets.create("session", session_id, "tokens", 1000, soft_limit=100, metadata={"k": "v"}))
    assert isinstance(budget, everruns_sdk.Budget)
    assert (budget.subject_type, budget.subject_id, budget.limit, budget.balance, budget.status) == (
        "session",
        session_id,
        1000,
        1000,
        "active",
    )
    user, org = owner
    period = {"type": "calendar", "unit": "month"}
    monthly = run(client.budgets.create("user", str(user.pk), "usd", 5.5, period=period))
    assert (monthly.period.type, monthly.period.unit, monthly.organization_id) == (
        "calendar",
        "month",
        format_id("org", org.pk),
    )

    by_key = run(client.budgets.create("api_key", str(api_key[0].pk), "tokens", 10))
    listed = run(client.budgets.list(subject_type="session", subject_id=session_id))
    assert [b.id for b in listed] == [budget.id]
    assert {b.id for b in run(client.budgets.list())} == {budget.id, monthly.id, by_key.id}
    assert run(client.budgets.get(budget.id)).model_dump() == budget.model_dump()

    updated = run(client.budgets.update(budget.id, limit=2000, metadata={"k": "w"}))
    assert (updated.limit, updated.balance, updated.metadata) == (2000, 2000, {"k": "w"})
    assert run(client.budgets.top_up(budget.id, 50, description="bonus")).balance == 2050
    [entry] = run(client.budgets.ledger(budget.id, limit=10, offset=0))
    assert (entry.amount, entry.meter_source, entry.description) == (-50, "top_up", "bonus")
    assert run(client.budgets.check(budget.id)).action == "continue"

    # The session's own, its owner's and its API key's.
    assert {b.id for b in run(client.sessions.budgets(session_id))} == {budget.id, monthly.id, by_key.id}
    assert run(client.sessions.budget_check(session_id)).action == "continue"

    run(client.budgets.delete(budget.id))
    with pytest.raises(everruns_sdk.NotFoundError):
        run(client.budgets.get(budget.id))


def test_a_session_budget_of_one_token_stops_the_second_turn(client, loop, session_id):
    from apps.runtime.services import turn_run_pending

    run = loop.run_until_complete
    budget = run(client.budgets.create("session", session_id, "tokens", 1))
    run(client.messages.create(session_id, "Hello"))
    turn_run_pending(session_id=parse_id("session", session_id))  # the simulated model reports usage
    assert run(client.budgets.get(budget.id)).status == "exhausted"
    check = run(client.sessions.budget_check(session_id))
    assert (check.action, check.budget_id, check.error_code) == ("stop", budget.id, "budget_exceeded")

    with pytest.raises(everruns_sdk.ApiError) as refused:
        run(client.messages.create(session_id, "Again"))
    assert refused.value.status_code == 422
    [charge] = run(client.budgets.ledger(budget.id))
    assert (charge.meter_source, charge.session_id) == ("llm_tokens", session_id) and charge.amount > 1


def test_connections_set_list_remove(client, loop):
    run = loop.run_until_complete
    connection = run(client.connections.set("anthropic", "sk-ant-mine"))
    assert isinstance(connection, everruns_sdk.Connection) and connection.provider == "anthropic"
    assert [c.provider for c in run(client.connections.list())] == ["anthropic"]
    run(client.connections.remove("anthropic"))
    assert run(client.connections.list()) == []
    with pytest.raises(everruns_sdk.NotFoundError):
        run(client.connections.remove("anthropic"))
