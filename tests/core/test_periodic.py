"""apps.core.periodic: jobs registered by apps, run from the worker loop at their interval."""

from apps.core import periodic


def test_jobs_run_at_their_interval_and_a_failure_does_not_stop_the_others(monkeypatch):
    monkeypatch.setattr(periodic, "_jobs", {})
    calls: list[str] = []
    periodic.periodic_register("often", lambda: calls.append("often"))
    periodic.periodic_register("hourly", lambda: calls.append("hourly"), every_secs=3600)
    periodic.periodic_register("broken", lambda: 1 / 0)
    now = [1000.0]
    assert periodic.periodic_run_due(clock=lambda: now[0]) == ["often", "hourly", "broken"]
    now[0] += 60
    assert periodic.periodic_run_due(clock=lambda: now[0]) == ["often", "broken"]
    now[0] += 3600
    periodic.periodic_run_due(clock=lambda: now[0])
    assert calls == ["often", "hourly", "often", "often", "hourly"]
