from django.core.management.base import BaseCommand, CommandError

from apps.llm import crypto
from apps.llm.services import encryption_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored provider API key (and other apps' secrets, e.g. webhook signing secrets) with the "
        "first key of ENCRYPTION_KEYS. Keep the old key "
        "listed (after the new one) until this has run: until then rows encrypted with it still decrypt."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only report what would be re-encrypted.")

    def handle(self, *args, dry_run: bool = False, **options):
        try:
            result = encryption_keys_rotate(dry_run=dry_run)
        except crypto.EncryptionNotConfigured:
            raise CommandError("ENCRYPTION_KEYS is not set: there is no key to rotate to.") from None
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{verb} {result.rotated} key(s) with key id {crypto.current_key_id()!r}; {result.current} already current."
        )
        if result.failed:
            raise CommandError(
                f"{len(result.failed)} key(s) could not be decrypted with the configured keys and were left "
                f"unchanged: {', '.join(result.failed)}"
            )
