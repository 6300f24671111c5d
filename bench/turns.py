"""Turn benchmark: runtime overhead with the simulated provider at zero latency (docs/benchmarks.md, "Turns").

    .venv/bin/python bench/turns.py [--samples 100] [--workers 4] [--sessions 200]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/everruns .venv/bin/python bench/turns.py

Three numbers, on a throwaway stack (bench/stack.py: fresh database, gunicorn, N `db_worker` processes):
1. inline: message_create + turn_run_pending in one process (the runtime's own cost: ~11 events, the
   conversation rebuild, one simulated provider call), p50/p95;
2. end to end: POST /v1/sessions/{id}/messages -> the `session.idled` frame on the session's SSE stream,
   one worker polling every 10 ms, sequential, p50/p95 (includes queue pick-up and the SSE wake-up;
   on SQLite streams poll with back-off, so this is also measured by polling the events endpoint);
3. throughput: --sessions sessions each get one message at once; turns/s until all are idle, with
   --workers worker processes.
"""

import argparse
import contextlib
import http.client
import json
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import PYTHON, ROOT, Stack  # noqa: E402

INLINE = """
import time, statistics, json
from apps.accounts.models import Organization, DEFAULT_ORG_ID
from apps.agents.services import agent_create
from apps.sessions.services import message_create, session_create
from apps.runtime.services import turn_run_pending
org = Organization.objects.get(pk=DEFAULT_ORG_ID)
agent = agent_create(organization=org, name="bench", system_prompt="You are fast.")
samples = []
for i in range({n} + 5):
    session = session_create(organization=org, agent=agent)
    started = time.perf_counter()
    message_create(session=session, content=[{{"type": "text", "text": "hello number %d" % i}}], start_turn=False)
    turn_run_pending(session_id=session.pk)
    samples.append((time.perf_counter() - started) * 1000)
print(json.dumps(samples[5:]))
"""


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def api(stack: Stack, method: str, path: str, body: dict | None = None) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    conn.request(method, path, json.dumps(body) if body is not None else None, {"Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status >= 300:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:300]!r}")
    return json.loads(data) if data else {}


def new_session(stack: Stack, agent_id: str) -> str:
    return api(stack, "POST", "/v1/sessions", {"agent_id": agent_id})["id"]


def message(text: str) -> dict:
    return {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}


def end_to_end_sample(stack: Stack, agent_id: str) -> float:
    for _ in range(3):
        with contextlib.suppress(StreamEnded):
            return _end_to_end_sample(stack, agent_id)
    raise RuntimeError("SSE streams keep ending before session.idled")


class StreamEnded(Exception):
    pass


def _end_to_end_sample(stack: Stack, agent_id: str) -> float:
    session_id = new_session(stack, agent_id)
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    conn.request("GET", f"/v1/sessions/{session_id}/sse", headers={"Accept": "text/event-stream"})
    stream = conn.getresponse()
    started = time.perf_counter()
    api(stack, "POST", f"/v1/sessions/{session_id}/messages", message("hello"))
    try:
        while True:
            line = stream.readline()
            if not line:
                raise StreamEnded
            if line.startswith(b"event: session.idled") or (line.startswith(b"data:") and b'"session.idled"' in line):
                return (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def start_workers(stack: Stack, count: int) -> list[subprocess.Popen]:
    log = (stack.tmp / "workers.log").open("ab")
    return [
        subprocess.Popen(
            [
                PYTHON,
                "manage.py",
                "db_worker",
                "--no-reload",
                "--interval",
                "0.01",
                "--no-startup-delay",
                "--queue-name",
                "default",
                "-v",
                "0",
            ],
            cwd=ROOT,
            env=stack.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(count)
    ]


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()


def throughput(stack: Stack, agent_id: str, sessions: int) -> float:
    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(lambda _: new_session(stack, agent_id), range(sessions)))
        started = time.perf_counter()
        list(pool.map(lambda s: api(stack, "POST", f"/v1/sessions/{s}/messages", message("go")), ids))
        posted = time.perf_counter() - started
    deadline = time.perf_counter() + 300
    for session_id in ids:  # all were posted; wait for each in turn (order does not matter for the total)
        while True:
            session = api(stack, "GET", f"/v1/sessions/{session_id}")
            if session["status"] == "idle" and session["output_preview"]:
                break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"session {session_id} not answered in 300 s (see {stack.tmp}/workers.log)")
            time.sleep(0.01)
    elapsed = time.perf_counter() - started
    print(f"  ({sessions} messages posted in {posted:.2f} s, all answered after {elapsed:.2f} s)")
    return sessions / elapsed


def polled_sample(stack: Stack, agent_id: str) -> float:
    """POST message -> session.idled stored, polling the events endpoint every 2 ms (no SSE in the path)."""
    session_id = new_session(stack, agent_id)
    started = time.perf_counter()
    api(stack, "POST", f"/v1/sessions/{session_id}/messages", message("hello"))
    while not api(stack, "GET", f"/v1/sessions/{session_id}/events?types=session.idled")["data"]:
        time.sleep(0.002)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=200)
    args = parser.parse_args()
    env = {"LLMSIM_LATENCY_MS": "0", "LLMSIM_CHUNK_DELAY_MS": "0", "LOG_LEVEL": "WARNING"}
    with Stack(env=env) as stack:
        print(f"database: {stack.vendor}")
        inline = json.loads(stack.shell(INLINE.format(n=args.samples), timeout=600).strip().splitlines()[-1])
        print(
            f"inline turn (message_create + turn_run_pending): p50 {pct(inline, 50):.1f} ms, "
            f"p95 {pct(inline, 95):.1f} ms ({len(inline)} turns)"
        )
        agent_id = api(stack, "POST", "/v1/agents", {"name": "bench", "system_prompt": "You are fast."})["id"]
        workers = start_workers(stack, 1)
        try:
            for _ in range(5):
                end_to_end_sample(stack, agent_id)
            e2e = [end_to_end_sample(stack, agent_id) for _ in range(args.samples)]
            polled = [polled_sample(stack, agent_id) for _ in range(args.samples)]
        finally:
            stop_workers(workers)
        print(
            f"POST message -> session.idled frame on SSE, 1 worker: p50 {pct(e2e, 50):.1f} ms, "
            f"p95 {pct(e2e, 95):.1f} ms ({len(e2e)} turns)"
        )
        print(
            f"POST message -> session.idled stored (events polled every 2 ms), 1 worker: "
            f"p50 {pct(polled, 50):.1f} ms, p95 {pct(polled, 95):.1f} ms ({len(polled)} turns)"
        )
        for count in sorted({1, args.workers}):
            workers = start_workers(stack, count)
            try:
                rate = throughput(stack, agent_id, args.sessions)
            finally:
                stop_workers(workers)
            print(f"throughput, {count} worker(s): {rate:.0f} turns/s ({args.sessions} sessions at once)")


if __name__ == "__main__":
    main()
