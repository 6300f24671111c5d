"""Schemathesis against the served OpenAPI document of a live server: every check, a fixed seed, bounded.

A throwaway stack (bench/stack.py: fresh database, gunicorn on 127.0.0.1, AUTH_MODE=full, no task worker,
so no turn ever calls a model) is fuzzed twice: with an admin's API key and with a plain member's. The
operations that call a provider's base URL (sync-models, test-connection) are excluded: nothing leaves
127.0.0.1. Any failure (a 5xx, an undocumented status, a body that breaks its schema, ...) fails the test
with schemathesis' report; replay a case with the seed printed there.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.stack import Stack

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
ST = str(Path(sys.executable).with_name("st"))
SEED = "20261202"
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5")
EXCLUDE = r"/(sync-models|test-connection)$"

KEYS = """
from apps.accounts.models import DEFAULT_ORG_ID, Membership, Organization, User
from apps.accounts.services import api_key_create
org = Organization.objects.get(pk=DEFAULT_ORG_ID)
for role in ("admin", "member"):
    user = User.objects.create_user(email=f"fuzz-{role}@example.com", password=None)
    Membership.objects.create(user=user, organization=org, role=role)
    print(api_key_create(user=user, organization=org, name="schemathesis")[1])
"""


@pytest.fixture(scope="module")
def stack():
    # No task worker by design, so GET /ready would rightly answer 503 (tests/core/test_ready.py covers that);
    # here it is asked about the database and migrations only.
    env = {"AUTH_MODE": "full", "WEB_CONCURRENCY": "1", "WEB_THREADS": "8", "READY_REQUIRE_WORKER": "0"}
    with Stack(env=env) as running:
        yield running


@pytest.fixture(scope="module")
def keys(stack) -> dict[str, str]:
    admin, member = stack.shell(KEYS).split()
    return {"admin": admin, "member": member}


@pytest.mark.parametrize("role", ["admin", "member"])
def test_schemathesis_finds_nothing(stack, keys, role, tmp_path):
    command = [
        ST,
        "--config-file",
        str(ROOT / "tests" / "schemathesis.toml"),
        "--no-color",
        "run",
        stack.url("/api-doc/openapi.json"),
        "--checks",
        "all",
        "--seed",
        SEED,
        "--max-examples",
        MAX_EXAMPLES,
        "--workers",
        "2",
        "--no-shrink",
        # Bounded: the example, fuzzing and stateful phases (the coverage phase alone is ~3,000 cases, ~9 min).
        "--phases",
        "examples,fuzzing,stateful",
        "--exclude-path-regex",
        EXCLUDE,
        "--header",
        f"Authorization: Bearer {keys[role]}",
        "--request-timeout",
        "30",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-3000:]
