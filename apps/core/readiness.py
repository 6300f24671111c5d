"""Readiness checks behind GET /ready: the database, applied migrations, plus checks other apps register.

/health is liveness (the process answers and reaches the database); /ready says whether this deployment
can do its work, for a load balancer or a Kubernetes readinessProbe (docs/deploy.md). Apps above core add
their own checks without core importing them: apps.runtime registers "worker" (a recent worker heartbeat)
from its AppConfig.ready(), through `readiness_check_register`.

A check returns None when fine, or a short reason (logged, never returned: the 503 body is the error envelope).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger("everruns.health")

Check = Callable[[], str | None]
_checks: dict[str, Check] = {}
# Once every migration this code knows is applied, it stays so for the life of the process (a new release
# brings new migrations with a new process), so the migration graph is loaded until the first success only.
_migrations_applied = False


def readiness_check_register(name: str, check: Check) -> None:
    """Add (or replace) the named check; run after the database and migration checks, in registration order."""
    _checks[name] = check


def database_check() -> str | None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return None


def migrations_check() -> str | None:
    global _migrations_applied
    if _migrations_applied:
        return None
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        return f"{len(plan)} migration(s) not applied (run manage.py migrate)"
    _migrations_applied = True
    return None


def readiness() -> dict[str, str]:
    """Run every check; {name: "ok" | reason}. A check that raises reports the exception's class."""
    results: dict[str, str] = {}
    for name, check in {"database": database_check, "migrations": migrations_check, **_checks}.items():
        try:
            reason = check()
        except Exception as exc:  # a driver error, a missing table: not ready, whatever it is
            reason = f"{type(exc).__name__}"
        results[name] = reason or "ok"
        if name == "database" and reason is not None:
            break  # the other checks read the database too
    return results
