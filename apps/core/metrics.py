"""Prometheus metrics (prometheus-client): the definitions, the small hooks that feed them, and GET /metrics.

Who feeds what (each from the one home of its concept):
- HTTP requests: `MetricsMiddleware` (outermost), by method, resolved route pattern and status;
- turns: apps.sessions.turns (`begin` -> `turn_started`, `finish` -> `turn_finished`), on commit;
- model calls: apps.llm.clients.base.LLMClient.stream_observed -> `llm_call_observed`;
- open SSE streams: apps.sessions.streaming -> `sse_streams`;
- worker heartbeats: apps.runtime.workers -> `worker_heartbeat`;
- queue depth and live workers are read from the database at scrape time by collectors other apps register
  (`scrape_collector_register`; apps.runtime registers its own), so every web process reports the same.

Processes: gunicorn runs several worker processes and turns run in `db_worker` processes. With
PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py and scripts/run.sh set it), every process writes its samples
there and a scrape of any web process aggregates them (prometheus-client's multiprocess mode). Without it
(tests, a single process) the process's own registry is served.

Access: METRICS_TOKEN (`Authorization: Bearer <token>`) and/or METRICS_ALLOWED_IPS (addresses or networks
of the scrapers). With neither, /metrics is 404, except under DEBUG where it is open (`make run`).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import os
import re
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# A named multiprocess directory that does not exist yet (a fresh volume, a typo) must not crash every
# process at its first metric: create it.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import (  # noqa: E402  (after the directory exists)
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from .errors import error_response

logger = logging.getLogger("everruns.metrics")

# --------------------------------------------------------------------------- definitions
HTTP_REQUESTS = Counter(
    "everruns_http_requests",
    "HTTP requests answered, by method, route pattern and status",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "everruns_http_request_duration_seconds",
    "Time to answer an HTTP request (to the first byte of a stream), by method and route pattern",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TURNS_STARTED = Counter("everruns_turns_started", "Turns started (a worker began the turn)")
TURNS_FINISHED = Counter("everruns_turns_finished", "Turns ended, by final status", ["status"])
TURN_DURATION = Histogram(
    "everruns_turn_duration_seconds",
    "Turn duration from start to its end, by final status",
    ["status"],
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
LLM_CALLS = Counter(
    "everruns_llm_calls", "Model calls, by provider type, model and outcome", ["provider_type", "model", "outcome"]
)
LLM_LATENCY = Histogram(
    "everruns_llm_call_duration_seconds",
    "Duration of a model call (request to the end of its stream), by provider type and model",
    ["provider_type", "model"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160, 300),
)
LLM_TOKENS = Counter(
    "everruns_llm_tokens",
    "Tokens reported by providers, by provider type, model and kind",
    ["provider_type", "model", "kind"],
)
SSE_STREAMS = Gauge("everruns_sse_streams_open", "SSE streams open now", multiprocess_mode="livesum")
WORKER_HEARTBEATS = Counter("everruns_worker_heartbeats", "Heartbeats sent by task worker processes")

UNMATCHED_ROUTE = "<unmatched>"


# --------------------------------------------------------------------------- hooks
def turn_started() -> None:
    TURNS_STARTED.inc()


def turn_finished(status: str, seconds: float | None) -> None:
    TURNS_FINISHED.labels(status=status).inc()
    if seconds is not None:
        TURN_DURATION.labels(status=status).observe(max(0.0, seconds))


def llm_call_observed(
    *, provider_type: str, model: str, seconds: float, outcome: str, usage: dict[str, int] | None
) -> None:
    LLM_CALLS.labels(provider_type=provider_type, model=model, outcome=outcome).inc()
    LLM_LATENCY.labels(provider_type=provider_type, model=model).observe(seconds)
    for kind, count in (usage or {}).items():
        if count:
            LLM_TOKENS.labels(provider_type=provider_type, model=model, kind=kind.removesuffix("_tokens")).inc(count)


def worker_heartbeat() -> None:
    WORKER_HEARTBEATS.inc()


class sse_streams:  # noqa: N801  (used as `with sse_streams():`)
    """Counts an SSE stream as open for the duration of the block."""

    def __enter__(self) -> None:
        SSE_STREAMS.inc()

    def __exit__(self, *exc: object) -> None:
        SSE_STREAMS.dec()


# --------------------------------------------------------------------------- scrape-time collectors
ScrapeCollector = Callable[[], Iterable[Metric]]
_scrape_collectors: dict[str, ScrapeCollector] = {}


def scrape_collector_register(name: str, collect: ScrapeCollector) -> None:
    """Metrics read at scrape time (from the database): `collect()` yields prometheus_client metric families."""
    _scrape_collectors[name] = collect


class _ScrapeCollectors:
    def collect(self) -> Iterable[Metric]:
        for name, collect in _scrape_collectors.items():
            try:
                yield from collect()
            except Exception:  # a failing query must not take the other metrics down
                logger.exception("metrics collector %s failed", name)


# --------------------------------------------------------------------------- HTTP
class MetricsMiddleware:
    """Outermost: counts every response by method, route pattern (never the raw path) and status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = UNMATCHED_ROUTE  # no route, or the catch-all JSON 404: arbitrary paths must not become labels
        if match is not None and match.url_name is not None:
            route = route_label(match.route)
        method = request.method if request.method in _METHODS else "other"
        HTTP_REQUESTS.labels(method=method, route=route, status=str(response.status_code)).inc()
        HTTP_LATENCY.labels(method=method, route=route).observe(time.perf_counter() - started)
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@functools.lru_cache(maxsize=512)
def route_label(route: str) -> str:
    """The route pattern as a label: `v1/sessions/<pk>/messages` for path() and router (regex) routes alike."""
    route = _REGEX_GROUP.sub(r"<\1>", route).lstrip("^").rstrip("$")
    return re.sub(r"<\w+:(\w+)>", r"<\1>", route)


def _allowed(request: HttpRequest) -> bool | None:
    """True/False once access is configured; None when it is not (then only DEBUG opens the endpoint)."""
    token = getattr(settings, "METRICS_TOKEN", "")
    networks = getattr(settings, "METRICS_ALLOWED_IPS", [])
    if not token and not networks:
        return None
    if token:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip().encode(), token.encode()):
            return True
    if networks:
        try:
            address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(network, strict=False) for network in networks)
    return False


def metrics_view(request: HttpRequest) -> HttpResponse:
    """GET /metrics in Prometheus' text format (403 for a caller not allowed, 404 when not configured)."""
    if request.method not in ("GET", "HEAD"):
        response = error_response(405)
        response["Allow"] = "GET, HEAD"
        return response
    allowed = _allowed(request)
    if allowed is None and not settings.DEBUG:
        return error_response(404)
    if allowed is False:
        return error_response(403)
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)


# Decided once, like prometheus-client itself does when it is first imported: samples go to files or memory.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def render_metrics() -> bytes:
    if MULTIPROCESS:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        process_metrics = generate_latest(registry)
    else:
        process_metrics = generate_latest(REGISTRY)
    scraped = CollectorRegistry()
    scraped.register(_ScrapeCollectors())
    return process_metrics + generate_latest(scraped)
