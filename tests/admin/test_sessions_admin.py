"""The sessions and turns admin through Django's test client: what an operator sees and what the actions do."""

import json
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.core.ids import format_id
from apps.sessions.models import Event, Turn
from tests.admin.conftest import PASSWORD, say, start_turn, worker_continues
from tests.fakes import Reply, ToolCall

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/agent_sessions/session/"
TURNS = "/admin/agent_sessions/turn/"


def _html(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_the_session_list_shows_agent_owner_organization_tokens_and_the_last_turn(staff, make_session, operator):
    session = make_session(title="Weather chat", created_by=operator)
    say(session, "What is the weather?")
    session.refresh_from_db()
    assert session.input_tokens + session.output_tokens > 0
    html = _html(staff, SESSIONS)
    for shown in (
        format_id("session", session.pk),
        "Weather chat",
        session.agent.name,
        "ops@example.com",
        "Default",
        str(session.input_tokens + session.output_tokens),
        'class="turn-status turn-completed"',
    ):
        assert shown in html, shown


def test_search_by_id_title_and_preview(staff, make_session):
    first = make_session(title="Invoices")
    second = make_session(title="Holidays")
    say(second, "Plan a trip to Lisbon")
    first_id, second_id = format_id("session", first.pk), format_id("session", second.pk)
    for term, found, missing in (
        (first_id, first_id, second_id),
        (str(second.pk), second_id, first_id),
        ("Invoices", first_id, second_id),
        ("Lisbon", second_id, first_id),
    ):
        html = _html(staff, f"{SESSIONS}?q={term}")
        assert found in html and missing not in html, term


def test_filters_by_status_agent_and_organization(staff, make_session, make_agent, make_org):
    other_org = make_org("Acme")
    other_agent = make_agent(org=other_org, name="Acme bot")
    mine = make_session()
    theirs = make_session(for_agent=other_agent)
    say(mine, "hello")
    mine_id, theirs_id = format_id("session", mine.pk), format_id("session", theirs.pk)
    html = _html(staff, f"{SESSIONS}?status__exact=idle")
    assert mine_id in html and theirs_id not in html
    html = _html(staff, f"{SESSIONS}?agent__id__exact={other_agent.pk}")
    assert theirs_id in html and mine_id not in html
    html = _html(staff, f"{SESSIONS}?organization__id__exact={other_org.pk}")
    assert theirs_id in html and mine_id not in html and "Acme" in html
    assert mine_id in _html(staff, f"{SESSIONS}?created_at__gte=2000-01-01+00:00:00%2B00:00")


def test_the_session_list_costs_the_same_queries_for_many_sessions(staff, make_session, django_assert_max_num_queries):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            _html(staff, SESSIONS)
        return len(queries)

    say(make_session(), "one")
    few = count()
    for n in range(12):
        say(make_session(title=f"s{n}"), f"message {n}")
    with django_assert_max_num_queries(few):
        _html(staff, SESSIONS)
    with django_assert_max_num_queries(few):
        _html(staff, TURNS)


def test_the_detail_page_shows_conversation_turns_and_a_paged_filtered_timeline(staff, make_session):
    session = make_session()
    say(session, "First question")
    say(session, "Second question")
    url = f"{SESSIONS}{session.pk}/change/"
    html = _html(staff, url)
    assert "First question" in html and "Second question" in html
    turns = list(Turn.objects.filter(session=session))
    assert len(turns) == 2
    for turn in turns:
        assert format_id("turn", turn.pk) in html
    assert html.count('class="turn-row"') == 2 and html.count("turn-completed") >= 2
    total = Event.objects.filter(session=session).count()
    assert f"{total} events" in html
    # Newest first: the last event of the session is the first row.
    rows = html.split('class="event-row')
    assert 'data-type="session.idled"' in rows[1]
    only_inputs = _html(staff, f"{url}?event_type=input.message")
    assert only_inputs.count('data-type="input.message"') == 2
    assert 'data-type="turn.started"' not in only_inputs


def test_the_timeline_pages_through_long_sessions(staff, make_session):
    session = make_session()
    for n in range(8):
        say(session, f"message {n}")
    total = Event.objects.filter(session=session).count()
    assert total > 50
    html = _html(staff, f"{SESSIONS}{session.pk}/change/")
    assert html.count('class="event-row') == 50 and "page 1 of 2" in html
    older = _html(staff, f"{SESSIONS}{session.pk}/change/?events_page=2")
    assert older.count('class="event-row') == total - 50
    assert 'data-type="session.started"' in older


def test_tool_calls_and_results_are_readable(staff, make_agent, make_session, fake_model, openai_server):
    agent = make_agent(capabilities=["test_math"])
    session = make_session(for_agent=agent, model=fake_model)
    openai_server.queue(Reply(tool_calls=[ToolCall("add", {"a": 20, "b": 22}, id="call_add")]), Reply(text="It is 42."))
    say(session, "What is 20 + 22?")
    html = _html(staff, f"{SESSIONS}{session.pk}/change/")
    assert "Tool call <strong>add</strong>" in html and "call_add" in html
    assert "&quot;a&quot;: 20" in html  # the arguments, pretty-printed
    assert "Tool result" in html and "42" in html
    assert "add({&quot;a&quot;: 20, &quot;b&quot;: 22})" in html  # tool.started in the timeline
    assert "add → success" in html or "add → ok" in html  # tool.completed in the timeline


def test_a_failed_turn_reads_failed_everywhere(staff, make_session, failing_model):
    session = make_session(model=failing_model)
    say(session, "this will fail")
    turn = Turn.objects.get(session=session)
    assert turn.status == Turn.STATUS_FAILED and turn.model == "gpt-fake"
    for url in (SESSIONS, TURNS, f"{SESSIONS}{session.pk}/change/", f"{TURNS}{turn.pk}/change/"):
        html = _html(staff, url)
        assert 'class="turn-status turn-failed"' in html, url
    html = _html(staff, TURNS)
    assert "llm_error" in html and "gpt-fake" in html
    assert "llm_error" in _html(staff, f"{TURNS}?status__exact=failed")


def test_cancel_a_running_turn_from_the_turn_list(staff, make_session):
    session = make_session()
    turn = start_turn(session, "a long job")
    response = staff.post(TURNS, {"action": "cancel_turns", "_selected_action": [str(turn.pk)]})
    assert response.status_code == 302
    turn.refresh_from_db()
    assert turn.cancel_requested and turn.status == Turn.STATUS_RUNNING
    assert Event.objects.filter(session=session, type="turn.cancelled").count() == 1
    assert LogEntry.objects.get().change_message == f"Cancel requested for {format_id('turn', turn.pk)}"
    worker_continues(turn)
    turn.refresh_from_db()
    session.refresh_from_db()
    assert turn.status == Turn.STATUS_CANCELLED and session.status == "idle"
    assert 'class="turn-status turn-cancelled"' in _html(staff, f"{SESSIONS}{session.pk}/change/")


def test_retry_a_failed_turn(staff, make_session, failing_model, openai_server):
    session = make_session(model=failing_model)
    say(session, "try me")
    failed = Turn.objects.get(session=session)
    response = staff.post(f"{TURNS}{failed.pk}/retry/", {"next": f"{SESSIONS}{session.pk}/change/"})
    assert response.status_code == 302 and response["Location"] == f"{SESSIONS}{session.pk}/change/"
    retried = Turn.objects.exclude(pk=failed.pk).get(session=session)
    assert retried.status == Turn.STATUS_QUEUED
    inputs = Event.objects.filter(session=session, type="input.message").order_by("sequence")
    assert [e.data["message"]["content"][0]["text"] for e in inputs] == ["try me", "try me"]
    assert inputs.last().metadata == {"retry_of": format_id("turn", failed.pk)}
    assert LogEntry.objects.get().change_message == f"Retried {format_id('turn', failed.pk)}"
    # Only a failed turn (and only the latest one) can be retried.
    staff.post(f"{TURNS}{retried.pk}/retry/")
    assert Turn.objects.filter(session=session).count() == 2


def test_operating_needs_the_permission_and_a_post(make_session, operator, db):
    session = make_session()
    turn = start_turn(session, "busy")
    viewer = User.objects.create_user(email="viewer@example.com", password=PASSWORD, is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_session", "view_turn"]))
    client = Client()
    client.force_login(viewer)
    assert client.get(f"{SESSIONS}{session.pk}/change/").status_code == 200
    assert client.post(f"{TURNS}{turn.pk}/cancel/").status_code == 403
    assert not Turn.objects.get(pk=turn.pk).cancel_requested
    client.force_login(operator)
    assert client.get(f"{TURNS}{turn.pk}/cancel/").status_code == 405


def test_non_staff_users_cannot_reach_the_admin(make_session, db):
    session = make_session()
    user = User.objects.create_user(email="member@example.com", password=PASSWORD)
    client = Client()
    client.force_login(user)
    for url in (SESSIONS, f"{SESSIONS}{session.pk}/change/", f"{SESSIONS}{session.pk}/transcript/", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url


def test_export_the_transcript(staff, make_session):
    session = make_session(title="Exported")
    say(session, "Tell me something")
    # The operator follows the "Export transcript" link of the session's page (it once pointed below /change/).
    page = staff.get(f"{SESSIONS}{session.pk}/change/").content.decode()
    link = re.search(r'href="([^"]+)" class="ops-export"', page).group(1)
    assert link == f"{SESSIONS}{session.pk}/transcript/"
    response = staff.get(link)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = json.loads(response.content)
    assert body["session"]["id"] == format_id("session", session.pk) and body["session"]["title"] == "Exported"
    assert [m["role"] for m in body["messages"]] == ["user", "agent"]
    assert body["messages"][0]["content"][0]["text"] == "Tell me something"
    assert body["turns"][0]["status"] == "completed"
    assert LogEntry.objects.get().change_message == "Exported transcript"
    several = staff.post(SESSIONS, {"action": "export_transcripts", "_selected_action": [str(session.pk)]})
    assert [t["session"]["title"] for t in json.loads(several.content)] == ["Exported"]
    assert LogEntry.objects.count() == 2


def test_events_and_turns_are_read_only(staff, make_session):
    session = make_session()
    say(session, "hi")
    turn = Turn.objects.get(session=session)
    html = _html(staff, f"{TURNS}{turn.pk}/change/")
    assert 'name="_save"' not in html
    assert staff.get("/admin/agent_sessions/session/add/").status_code == 403
    assert staff.post(f"{TURNS}{turn.pk}/delete/").status_code == 403


def test_the_session_page_costs_the_same_queries_however_long_the_session(
    staff, make_session, django_assert_max_num_queries
):
    session = make_session()
    say(session, "first")
    url = f"{SESSIONS}{session.pk}/change/"
    with CaptureQueriesContext(connection) as short:
        _html(staff, url)
    for n in range(10):
        say(session, f"message {n}")
    with django_assert_max_num_queries(len(short)):
        _html(staff, url)


def test_the_timeline_of_one_turn(staff, make_session):
    session = make_session()
    say(session, "first")
    say(session, "second")
    first, second = Turn.objects.filter(session=session).order_by("created_at")
    key = format_id("turn", second.pk)
    html = _html(staff, f"{SESSIONS}{session.pk}/change/?turn={key}")
    rows = html.split('class="event-row')[1:]
    assert rows and all(key in row.split("</tr>")[0] for row in rows)
    assert len(rows) == Event.objects.filter(session=session, context__turn_id=key).count()
    assert f"only {key}" in html
    trace = _html(staff, f"{TURNS}{first.pk}/change/")
    assert f"?turn={format_id('turn', first.pk)}#timeline" in trace


def test_the_turn_page_offers_what_can_be_done(staff, make_session, failing_model):
    running = start_turn(make_session(), "busy")
    html = _html(staff, f"{TURNS}{running.pk}/change/")
    assert "ops-cancel" in html and "ops-retry" not in html
    staff.post(f"{TURNS}{running.pk}/cancel/")
    assert "ops-cancel" not in _html(staff, f"{TURNS}{running.pk}/change/")  # already asked
    session = make_session(model=failing_model)
    say(session, "fails")
    failed = Turn.objects.get(session=session)
    html = _html(staff, f"{TURNS}{failed.pk}/change/")
    assert "ops-retry" in html and "ops-cancel" not in html
    response = staff.post(f"{TURNS}{failed.pk}/retry/")
    assert response.status_code == 302 and response["Location"] == f"{TURNS}{failed.pk}/change/"
    assert "ops-retry" not in _html(staff, f"{TURNS}{failed.pk}/change/")  # a newer turn exists now
