"""Benchmark helper process: append events at a steady rate and report when each one committed.

python bench/_writer.py <session ids json file> <events per second> <seconds>
Prints one JSON object: {"events": [[event hex, commit unix time], ...], "behind_secs": max lag}.
"""

import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "everruns.settings")
    django.setup()
    from apps.sessions.services import event_append

    session_ids = [uuid.UUID(value) for value in json.loads(Path(sys.argv[1]).read_text())]
    rate, duration = float(sys.argv[2]), float(sys.argv[3])
    interval = 1 / rate
    events, behind = [], 0.0
    start = next_at = time.monotonic()
    while next_at < start + duration:
        session_id = random.choice(session_ids)
        # event_append is its own transaction: when it returns, the event is committed.
        event = event_append(
            session_id=session_id,
            type="output.message.delta",
            data={"delta": "lorem ipsum ", "accumulated": "lorem ipsum " * 4},
        )
        events.append([event.id.hex, time.time()])
        next_at += interval
        delay = next_at - time.monotonic()
        behind = max(behind, -delay)
        if delay > 0:
            time.sleep(delay)
    print(json.dumps({"events": events, "behind_secs": behind}))


if __name__ == "__main__":
    main()
