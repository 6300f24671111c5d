"""SSE benchmark: how many concurrent streams one server holds while events flow, and how fast they arrive.

    .venv/bin/python bench/sse.py                       # SQLite unless DATABASE_URL is set
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/everruns .venv/bin/python bench/sse.py --streams 1000

Starts its own stack (bench/stack.py: fresh database, gunicorn with gunicorn.conf.py on 127.0.0.1),
creates one session per stream, opens the streams from one asyncio client, then a SEPARATE
writer process appends events at a steady rate to random sessions. For every event the writer
records when its transaction committed and the client when the frame arrived: the difference is
the delivery latency (same machine, same clock). Prints a Markdown table; `--record` appends it to
docs/benchmarks.md. Loopback only; bounded by --timeout.
"""

import argparse
import asyncio
import collections
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sseclient import FrameReader, HttpStreamDecoder, request_bytes  # noqa: E402
from bench.stack import ROOT, Stack, cpu_seconds, record  # noqa: E402

SEED = """
import json
from apps.accounts.models import DEFAULT_ORG_ID, Organization
from apps.agents.models import Agent
from apps.sessions.services import session_create
org = Organization.objects.get(pk=DEFAULT_ORG_ID)
agent = Agent.objects.create(organization=org, name="bench", system_prompt="x")
print(json.dumps([session_create(organization=org, agent=agent).pk.hex for _ in range({count})]))
"""


class Client:
    """All streams of the benchmark, on one event loop."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connected = 0
        self.received: dict[str, float] = {}
        self.duplicates = 0
        self.errors = 0
        self.tasks: list[asyncio.Task] = []
        # Why streams did not connect or ended early: "status 503", "ConnectionResetError", "eof", ...
        self.outcomes: collections.Counter[str] = collections.Counter()

    async def stream(self, session_hex: str, opened: asyncio.Event) -> None:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20)
        except OSError as exc:
            self.errors += 1
            self.outcomes[f"connect {type(exc).__name__}"] += 1
            opened.set()
            return
        writer.write(request_bytes(f"/v1/sessions/session_{session_hex}/sse"))
        decoder, frames = HttpStreamDecoder(), FrameReader()
        try:
            while data := await reader.read(65536):
                now = time.time()
                for frame in frames.feed(decoder.feed(data)):
                    if frame.get("event") == "connected":
                        self.connected += 1
                        opened.set()
                    elif "id" in frame:
                        if frame["id"] in self.received:
                            self.duplicates += 1
                        self.received[frame["id"]] = now
            self.outcomes[f"status {decoder.status} then eof" if decoder.status != 200 else "eof after 200"] += 1
            if decoder.status != 200:
                self.outcomes[f"body {frames.buffer[:200]!r}"] += 1
        except OSError as exc:
            self.outcomes[f"read {type(exc).__name__}"] += 1
        except asyncio.CancelledError:
            pass
        finally:
            opened.set()
            writer.close()

    async def open_all(self, session_hexes: list[str], batch: int = 100) -> None:
        for start in range(0, len(session_hexes), batch):
            events = []
            for session_hex in session_hexes[start : start + batch]:
                opened = asyncio.Event()
                events.append(opened)
                self.tasks.append(asyncio.create_task(self.stream(session_hex, opened)))
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 60)

    async def close_all(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def run(args) -> dict:
    env = {"WEB_CONCURRENCY": str(args.workers), "SSE_CYCLE_SECS": "3600"}
    if args.threads:
        env["WEB_THREADS"] = str(args.threads)
    with Stack(env=env) as stack:
        session_hexes = json.loads(stack.shell(SEED.format(count=args.streams), timeout=600))
        ids_file = stack.tmp / "sessions.json"
        ids_file.write_text(json.dumps(session_hexes))
        # Warm both workers (imports, URL resolver) before measuring memory.
        for _ in range(20):
            await asyncio.to_thread(lambda: __import__("urllib.request").request.urlopen(stack.url("/health")).read())
        rss_before = stack.rss_kib()

        client = Client(stack.port)
        connect_started = time.monotonic()
        await client.open_all(session_hexes)
        connect_secs = time.monotonic() - connect_started
        await asyncio.sleep(2)  # replay frames drained, threads settled
        rss_after = stack.rss_kib()
        workers = stack.worker_pids()
        threads = [threads_of(pid) for pid in workers]
        client.received.clear()

        cpu_before, wall_before = cpu_seconds(workers), time.monotonic()
        writer = stack.popen_python(
            str(ROOT / "bench" / "_writer.py"), str(ids_file), str(args.rate), str(args.duration)
        )
        stdout, stderr = await asyncio.to_thread(writer.communicate, timeout=args.duration + 120)
        if writer.returncode != 0:
            raise RuntimeError(stderr[-2000:])
        await asyncio.sleep(1.5)  # the last events' delivery
        cpu = (cpu_seconds(workers) - cpu_before) / (time.monotonic() - wall_before)
        written = json.loads(stdout)
        still_connected = sum(1 for task in client.tasks if not task.done())
        await client.close_all()

        latencies = []
        for event_hex, committed in written["events"]:
            received = client.received.get(f"event_{event_hex}")
            if received is not None:
                latencies.append((received - committed) * 1000)
        return {
            "database": stack.vendor,
            "workers": args.workers,
            "threads": os.environ.get("WEB_THREADS") or args.threads or "768 (default)",
            "streams": args.streams,
            "connected": client.connected,
            "still_open": still_connected,
            "connect_secs": connect_secs,
            "rate": args.rate,
            "duration": args.duration,
            "written": len(written["events"]),
            "delivered": len(latencies),
            "duplicates": client.duplicates,
            "p50": percentile(latencies, 50),
            "p99": percentile(latencies, 99),
            "max": max(latencies) if latencies else float("nan"),
            "mean": statistics.fmean(latencies) if latencies else float("nan"),
            "rss_before_mib": rss_before / 1024,
            "rss_after_mib": rss_after / 1024,
            "kib_per_stream": (rss_after - rss_before) / max(client.connected, 1),
            "threads_per_worker": threads,
            "server_cpu": cpu,
            "writer_behind_secs": written["behind_secs"],
            "outcomes": dict(client.outcomes),
        }


def table(result: dict) -> str:
    rows = [
        ("database", result["database"]),
        ("gunicorn workers x max threads", f"{result['workers']} x {result['threads']}"),
        (
            "streams requested / connected / open at end",
            f"{result['streams']} / {result['connected']} / {result['still_open']}",
        ),
        (
            "streams that failed (why)",
            ", ".join(f"{n} {why}" for why, n in result["outcomes"].items() if not why.startswith("body")) or "none",
        ),
        ("time to open all streams", f"{result['connect_secs']:.1f} s"),
        ("threads per worker (incl. idle)", ", ".join(map(str, result["threads_per_worker"]))),
        ("events written (steady rate)", f"{result['written']} ({result['rate']:g}/s for {result['duration']:g} s)"),
        ("events delivered / duplicates", f"{result['delivered']} / {result['duplicates']}"),
        ("latency commit -> client p50", f"{result['p50']:.1f} ms"),
        ("latency commit -> client p99", f"{result['p99']:.1f} ms"),
        ("latency max", f"{result['max']:.1f} ms"),
        ("server RSS before / with streams", f"{result['rss_before_mib']:.0f} MiB / {result['rss_after_mib']:.0f} MiB"),
        ("memory per stream", f"{result['kib_per_stream']:.0f} KiB"),
        ("server CPU while streaming", f"{result['server_cpu'] * 100:.0f} % of one core"),
    ]
    lines = ["| measure | value |", "|---|---|"] + [f"| {name} | {value} |" for name, value in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100, help="events appended per second")
    parser.add_argument("--duration", type=float, default=20, help="seconds of steady appends")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="WEB_THREADS (default: gunicorn.conf.py's)")
    parser.add_argument("--timeout", type=float, default=600, help="abort the whole run after this many seconds")
    parser.add_argument("--record", action="store_true", help="append the table to docs/benchmarks.md")
    args = parser.parse_args()
    result = asyncio.run(asyncio.wait_for(run(args), args.timeout))
    text = table(result)
    print(text)
    if result["outcomes"]:
        print("failed streams:", result["outcomes"], file=sys.stderr)
    if args.record:
        command = f"bench/sse.py --streams {args.streams} --rate {args.rate:g} --duration {args.duration:g}"
        record(f"SSE run, {result['database']}", f".venv/bin/python {command}", text)


if __name__ == "__main__":
    main()
