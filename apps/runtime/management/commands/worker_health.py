"""`manage.py worker_health`: exit 0 when a task worker on this host beat recently (container healthchecks).

The worker process refreshes its `WorkerProcess` row every RUNTIME_RECOVERY_INTERVAL_SECS from the moment
it starts (apps.runtime.workers); this asks whether one on this host (the container's hostname) did so
within the liveness window. `--any-host`: a worker anywhere (what GET /ready checks).
"""

import socket
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from apps.runtime.models import WorkerProcess
from apps.runtime.workers import liveness_window_seconds


class Command(BaseCommand):
    help = "Exit 0 if a task worker on this host sent a heartbeat within the liveness window, 1 otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--any-host", action="store_true", help="Accept a worker on any host.")

    def handle(self, *args: Any, **options: Any) -> None:
        window = liveness_window_seconds()
        workers = WorkerProcess.objects.filter(heartbeat_at__gte=timezone.now() - timedelta(seconds=window))
        if not options["any_host"]:
            workers = workers.filter(hostname=socket.gethostname()[:255])
        if not workers.exists():
            where = "anywhere" if options["any_host"] else f"on {socket.gethostname()}"
            raise CommandError(f"no task worker heartbeat {where} in the last {window:g} s")
        self.stdout.write("ok")
