"""A burst of requests on many gunicorn threads stays within the web process's connection pool
(DB_POOL_MAX_SIZE, set by gunicorn.conf.py) instead of one connection per thread: the cause of the
"too many clients" 500s on PostgreSQL under load (docs/streaming.md, "Database connections")."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from bench.stack import Stack

pytestmark = pytest.mark.slow


def test_a_burst_of_requests_uses_at_most_the_pool():
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")
    import psycopg

    env = {"WEB_CONCURRENCY": "1", "WEB_THREADS": "48", "DB_POOL_MAX_SIZE": "4", "DB_CONN_MAX_AGE": "600"}
    with Stack(env=env) as stack:
        agent = httpx.post(stack.url("/v1/agents"), json={"name": "Pool", "system_prompt": "x"}).json()
        peak = 0
        done = threading.Event()

        def sample():
            nonlocal peak
            admin = stack.database_url.replace(stack.database_name, "postgres")
            with psycopg.connect(admin, autocommit=True) as conn:
                while not done.is_set():
                    count = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [stack.database_name]
                    ).fetchone()[0]
                    peak = max(peak, count)
                    done.wait(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()

        def burst(i):
            with httpx.Client(timeout=30) as client:
                created = client.post(stack.url("/v1/sessions"), json={"agent_id": agent["id"]})
                listed = client.get(stack.url("/v1/sessions"), params={"limit": 100, "offset": i})
                return created.status_code, listed.status_code

        try:
            with ThreadPoolExecutor(48) as pool:
                results = list(pool.map(burst, range(240)))
        finally:
            done.set()
            sampler.join()
        assert set(results) == {(201, 200)}
        assert peak <= 4 + 1  # the pool, plus the process's LISTEN connection at most
