from django.core.management.base import BaseCommand, CommandError

from apps.llm import crypto
from apps.llm.services import KEY_ROTATIONS


class Command(BaseCommand):
    help = (
        "Re-encrypt everything stored under ENCRYPTION_KEYS (provider API keys, session secrets) with its first "
        "key. Keep the old key listed (after the new one) until this has run: until then rows encrypted with it "
        "still decrypt."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only report what would be re-encrypted.")

    def handle(self, *args, dry_run: bool = False, **options):
        failed: list[str] = []
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        for label, rotate in KEY_ROTATIONS.items():
            try:
                result = rotate(dry_run=dry_run)
            except crypto.EncryptionNotConfigured:
                raise CommandError("ENCRYPTION_KEYS is not set: there is no key to rotate to.") from None
            self.stdout.write(
                f"{label}: {verb} {result.rotated} key(s) with key id {crypto.current_key_id()!r}; "
                f"{result.current} already current."
            )
            failed += result.failed
        if failed:
            raise CommandError(
                f"{len(failed)} key(s) could not be decrypted with the configured keys and were left "
                f"unchanged: {', '.join(failed)}"
            )
