from django.core.management.base import BaseCommand

from apps.runtime.scheduling import turns_recover_stale


class Command(BaseCommand):
    help = "Requeue agent turns whose worker stopped heart-beating (each db_worker also does this periodically)."

    def handle(self, *args, **options) -> None:
        count = turns_recover_stale()
        self.stdout.write(f"requeued {count} stale turn(s)")
