import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.core.openapi import SchemaWarnings, build_schema, render_schema


class Command(BaseCommand):
    help = "Write the OpenAPI document (validated, no running server needed) to stdout or --output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["json", "yaml"], default="json", help="Output format (json).")
        parser.add_argument("--output", "-o", default=None, help="Write to this file instead of stdout.")
        parser.add_argument("--allow-warnings", action="store_true", help="Do not fail on generator warnings.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            schema = build_schema(fail_on_warn=not options["allow_warnings"])
        except SchemaWarnings as exc:
            raise CommandError(f"OpenAPI generation reported problems: {exc}") from exc
        text = render_schema(schema, options["format"])
        if options["output"]:
            Path(options["output"]).parent.mkdir(parents=True, exist_ok=True)
            Path(options["output"]).write_text(text)
            self.stdout.write(self.style.SUCCESS(f"OpenAPI ({options['format']}) written to {options['output']}"))
        else:
            try:
                self.stdout.write(text, ending="")
                self.stdout.flush()
            except BrokenPipeError:
                # The reader stopped early (`export_openapi | head`): not an error worth a traceback. Point
                # stdout at /dev/null so the interpreter's final flush does not raise again (Python docs,
                # "Note on SIGPIPE"); exit 1 like a program killed by SIGPIPE is not "success" either.
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                sys.exit(1)
