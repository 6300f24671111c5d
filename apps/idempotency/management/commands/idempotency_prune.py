from django.core.management.base import BaseCommand

from apps.idempotency.services import idempotency_prune


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than IDEMPOTENCY_TTL_SECS."

    def handle(self, *args, **options) -> None:
        count = idempotency_prune()
        self.stdout.write(f"pruned {count} expired idempotency key(s)")
