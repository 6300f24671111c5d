"""GET /v1/sessions?limit=20 throughput: the API (DRF, authenticated) next to a bare Django view, same server, same run.

    .venv/bin/python bench/sessions_list.py            # SQLite unless DATABASE_URL is set
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/everruns .venv/bin/python bench/sessions_list.py --record

Starts its own stack (bench/stack.py) with DJANGO_SETTINGS_MODULE=bench.settings, which adds the
bench-only view /bench/bare-sessions (bench/views.py: same query, same JSON, no DRF, no auth) and
AUTH_MODE=full. Seeds sessions, then alternates timed rounds of the three variants (bare, API with
an `evr_` API key, API with a JWT access token) from one asyncio client over keep-alive
connections, and reports requests per second. Also counts the SQL queries of one list request
for several page sizes and session counts (in a separate process through Django's test client),
with the credential cache off and, for limit=20, with the credential already cached.
`--auth-cache-seconds` sets the server's AUTH_CACHE_SECONDS (default: the settings' default, 2 s;
0 measures the uncached path, one authentication query per request).
Last, the CPU each variant costs per request in one process through the real WSGI application
(`--cpu-requests` requests per variant, interleaved so machine drift hits all alike; thread CPU
time, so database waits do not count), with the garbage-collector runs it triggers: the stable
figure on a shared machine, where HTTP rates move between runs.
Prints a Markdown table; `--record` appends it to docs/benchmarks.md.
"""

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stack import Stack, record  # noqa: E402

SEED = """
import json
from apps.accounts.models import DEFAULT_ORG_ID, Membership, Organization, User
from apps.accounts.services import api_key_create
from apps.accounts.tokens import encode_access
from apps.agents.models import Agent
from apps.sessions.services import session_create
org = Organization.objects.get(pk=DEFAULT_ORG_ID)
user = User.objects.filter(email="bench@example.com").first()
if user is None:
    user = User.objects.create_user(email="bench@example.com", password="bench-pass-123", name="bench")
    Membership.objects.create(user=user, organization=org, role="member")
agents = [Agent.objects.create(organization=org, name=f"bench {{i}}", system_prompt="x",
                               capabilities=[{{"ref": "current_time", "config": {{}}}}]) for i in range(20)]
for i in range({count}):
    session_create(organization=org, agent=agents[i % len(agents)], title=f"session {{i}}", tags=["bench"])
_, key = api_key_create(user=user, organization=org, name="bench")
token = encode_access(user_id=str(user.pk), email=user.email, name=user.name, roles=["user"])
print(json.dumps({{"api_key": key, "jwt": token}}))
"""

COUNT_QUERIES = """
import json
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from apps.sessions.models import Session
client = Client(HTTP_AUTHORIZATION="Bearer {api_key}", SERVER_NAME="127.0.0.1")
result = {{}}
def count(limit):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(f"/v1/sessions?limit={{limit}}").status_code == 200
    return len(ctx.captured_queries)
count(20)  # the key's first use records last_used_at: not part of the steady state
with override_settings(AUTH_CACHE_SECONDS=0):
    for limit in (1, 20, 100):
        result[limit] = count(limit)
with override_settings(AUTH_CACHE_SECONDS=5):
    count(20)
    result["cached"] = count(20)
print(json.dumps({{"sessions": Session.objects.count(), "queries": result}}))
"""

CPU_PER_REQUEST = """
import gc, io, json, statistics, sys, time
from everruns.wsgi import application
variants = json.loads({variants!r})
def call(path, headers):
    environ = {{"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "limit=20", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
               "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.errors": sys.stderr, "REMOTE_ADDR": "127.0.0.1", **headers}}
    status = []
    response = application(environ, lambda s, h, e=None: status.append(s))
    b"".join(response)
    response.close()
    assert status[0].startswith("200"), status
collections = {{"n": 0}}
gc.callbacks.append(lambda phase, info: phase == "start" and collections.__setitem__("n", collections["n"] + 1))
cpu = {{name: [] for name in variants}}
runs = {{}}
for name, (path, headers) in variants.items():  # warm-up, then collector runs of 200 requests in a row
    for _ in range(20):
        call(path, headers)
    before = collections["n"]
    for _ in range(200):
        call(path, headers)
    runs[name] = (collections["n"] - before) / 2
for _ in range({requests}):
    for name, (path, headers) in variants.items():  # interleaved: drift hits every variant alike
        started = time.thread_time_ns()
        call(path, headers)
        cpu[name].append((time.thread_time_ns() - started) / 1e6)
print(json.dumps({{name: {{"cpu_ms": statistics.median(values), "gc_per_100": runs[name]}}
                  for name, values in cpu.items()}}))
"""


async def _exchange(reader, writer, request: bytes, path: str) -> dict[bytes, bytes]:
    """One request on a keep-alive connection; the response headers (lower-case names)."""
    writer.write(request)
    raw_head = await reader.readuntil(b"\r\n\r\n")
    status = int(raw_head.split(b" ", 2)[1])
    headers = {}
    for line in raw_head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    await reader.readexactly(int(headers.get(b"content-length", b"0")))
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    return headers


async def open_balanced(port: int, request: bytes, path: str, connections: int, workers: int) -> list:
    """`connections` keep-alive connections spread evenly over the server's `workers` processes.

    Workers race to accept connections, so 8 connections to 2 workers land 4/4 one round and 6/2 the
    next, and a 6/2 round measures mostly one saturated process: that made 2-worker ratios swing by
    ±25 % between runs. The bench server names the worker in `X-Worker-Pid` (bench/middleware.py);
    connections beyond a worker's share are closed and opened again until every worker has its share.
    """
    share = -(-connections // max(workers, 1))
    per_worker: dict[bytes, int] = {}
    kept = []
    for _ in range(connections * 100):
        if len(kept) == connections:
            break
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        pid = (await _exchange(reader, writer, request, path)).get(b"x-worker-pid", b"?")
        if workers > 1 and per_worker.get(pid, 0) >= share:
            writer.close()
            continue
        per_worker[pid] = per_worker.get(pid, 0) + 1
        kept.append((reader, writer))
    if len(kept) < connections:
        raise RuntimeError(f"could not spread {connections} connections over {workers} workers: {per_worker}")
    return kept


async def hammer(
    port: int, path: str, headers: dict[str, str], seconds: float, connections: int, workers: int = 1
) -> float:
    """Requests per second over `connections` keep-alive connections (spread evenly over the workers)."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode()
    kept = await open_balanced(port, request, path, connections, workers)
    stop_at = time.monotonic() + seconds
    done = 0

    async def one(reader, writer) -> None:
        nonlocal done
        try:
            while time.monotonic() < stop_at:
                await _exchange(reader, writer, request, path)
                done += 1
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(one(reader, writer) for reader, writer in kept))
    return done / (time.monotonic() - started)


async def run(args) -> dict:
    env = {"DJANGO_SETTINGS_MODULE": "bench.settings", "AUTH_MODE": "full", "WEB_CONCURRENCY": str(args.workers)}
    if args.auth_cache_seconds is not None:
        env["AUTH_CACHE_SECONDS"] = str(args.auth_cache_seconds)
    with Stack(env=env) as stack:
        credentials = json.loads(stack.shell(SEED.format(count=100), timeout=600))
        queries_small = json.loads(stack.shell(COUNT_QUERIES.format(api_key=credentials["api_key"])))
        json.loads(stack.shell(SEED.format(count=args.sessions - 100), timeout=600))
        queries_large = json.loads(stack.shell(COUNT_QUERIES.format(api_key=credentials["api_key"])))

        api_key = {"Authorization": f"Bearer {credentials['api_key']}"}
        jwt = {"Authorization": f"Bearer {credentials['jwt']}"}
        variants = {
            "bare Django view (no DRF, no auth)": ("/bench/bare-sessions?limit=20", {}),
            "API, API key (`Bearer evr_…`)": ("/v1/sessions?limit=20", api_key),
            "API, JWT access token": ("/v1/sessions?limit=20", jwt),
            "(for scale) DRF + JWT authentication only, empty body": ("/bench/auth-only", jwt),
        }
        for path, headers in variants.values():  # warm-up: imports, connections, caches
            await hammer(stack.port, path, headers, 1, args.connections, args.workers)
        totals = {name: 0.0 for name in variants}
        for _ in range(args.rounds):
            for name, (path, headers) in variants.items():
                totals[name] += await hammer(stack.port, path, headers, args.seconds, args.connections, args.workers)
        rates = {name: total / args.rounds for name, total in totals.items()}
        in_process = {}
        if args.cpu_requests:
            wsgi_variants = {
                name: (path.split("?")[0], {f"HTTP_{key.upper()}": value for key, value in headers.items()})
                for name, (path, headers) in variants.items()
            }
            in_process = json.loads(
                stack.shell(
                    CPU_PER_REQUEST.format(variants=json.dumps(wsgi_variants), requests=args.cpu_requests), timeout=900
                )
            )
        return {
            "database": stack.vendor,
            "workers": args.workers,
            "auth_cache": "settings default" if args.auth_cache_seconds is None else f"{args.auth_cache_seconds:g} s",
            "connections": args.connections,
            "rounds": args.rounds,
            "seconds": args.seconds,
            "rates": rates,
            "queries": [queries_small, queries_large],
            "in_process": in_process,
            "cpu_requests": args.cpu_requests,
        }


def table(result: dict) -> str:
    rates = result["rates"]
    bare = next(iter(rates.values()))
    lines = ["| GET ?limit=20 | requests/s | vs bare |", "|---|---|---|"]
    lines += [f"| {name} | {rate:.0f} | {rate / bare:.2f} |" for name, rate in rates.items()]
    lines += [
        "",
        "| sessions in the org | queries, limit=1 | limit=20 | limit=100 | limit=20, credential cached |",
        "|---|---|---|---|---|",
    ]
    for entry in result["queries"]:
        q = entry["queries"]
        lines.append(f"| {entry['sessions']} | {q['1']} | {q['20']} | {q['100']} | {q['cached']} |")
    if in_process := result["in_process"]:
        base = next(iter(in_process.values()))["cpu_ms"]
        lines += [
            "",
            f"In one process through the WSGI application, {result['cpu_requests']} interleaved requests per variant "
            "(no HTTP, no client competing for the CPU):",
            "",
            "| GET ?limit=20 | CPU ms per request (median) | bare / variant | GC runs per 100 requests |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {name} | {row['cpu_ms']:.2f} | {base / row['cpu_ms']:.2f} | {row['gc_per_100']:.0f} |"
            for name, row in in_process.items()
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive client connections")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4, help="length of one timed round per variant")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument(
        "--auth-cache-seconds",
        type=float,
        default=None,
        help="the server's AUTH_CACHE_SECONDS (default: the settings' default)",
    )
    parser.add_argument(
        "--cpu-requests",
        type=int,
        default=500,
        help="requests per variant for the in-process CPU measurement (0: skip it)",
    )
    parser.add_argument("--record", action="store_true", help="append the table to docs/benchmarks.md")
    args = parser.parse_args()
    result = asyncio.run(asyncio.wait_for(run(args), args.timeout))
    text = table(result)
    print(text)
    if args.record:
        database_prefix = "DATABASE_URL=postgres://… " if result["database"] == "postgresql" else ""
        record(
            f"Sessions list run, {result['database']}, {result['workers']} workers, "
            f"{result['connections']} client connections, {result['rounds']} x {result['seconds']:g} s per variant, "
            f"AUTH_CACHE_SECONDS {result['auth_cache']}",
            f"{database_prefix}.venv/bin/python bench/sessions_list.py {' '.join(sys.argv[1:])}",
            text,
        )


if __name__ == "__main__":
    main()
