from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from apps.accounts.models import DEFAULT_ORG_ID, Organization
from apps.core import ids
from apps.core.exceptions import ApplicationError
from apps.skills import services


class Command(BaseCommand):
    help = (
        "Import skills from a folder of Markdown with YAML front matter: the folder itself when it holds a "
        "SKILL.md, else every sub-folder with a SKILL.md (its other files come along) and every top-level *.md "
        "file (a skill without files). A skill whose name exists in the organization gets a new version."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="The folder to import.")
        parser.add_argument("--organization", help="Organization id (`org_…`); default: the default organization.")

    def handle(self, *args, folder: str, organization: str | None = None, **options):
        org_pk = ids.parse_id("org", organization) if organization else DEFAULT_ORG_ID
        org = Organization.objects.filter(pk=org_pk).first() if org_pk else None
        if org is None:
            raise CommandError(f"Unknown organization: {organization}")
        root = Path(folder)
        if not root.is_dir():
            raise CommandError(f"Not a folder: {folder}")
        sources = (
            [root]
            if (root / "SKILL.md").is_file()
            else sorted(
                [p for p in root.iterdir() if p.is_dir() and (p / "SKILL.md").is_file()]
                + [p for p in root.iterdir() if p.is_file() and p.suffix.lower() == ".md"]
            )
        )
        if not sources:
            raise CommandError(f"No SKILL.md or *.md file in {folder}")
        failures = 0
        for source in sources:
            try:
                if source.is_dir():
                    skill, created = services.skill_import_folder(organization=org, folder=source)
                else:
                    skill, created = services.skill_import_markdown(
                        organization=org, text=source.read_text(encoding="utf-8")
                    )
            except (ApplicationError, UnicodeDecodeError, OSError) as exc:
                failures += 1
                message = exc.message if isinstance(exc, ApplicationError) else str(exc)
                self.stderr.write(f"{source.name}: {message}")
                continue
            verb = "created" if created else "updated"
            self.stdout.write(f"{source.name}: {verb} {skill.name} ({skill.public_id}, version {skill.version})")
        if failures:
            raise CommandError(f"{failures} of {len(sources)} skill(s) could not be imported")
