"""Building the OpenAPI document outside a request (the export command and the sync test)."""

import json

from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.validation import validate_schema


class SchemaWarnings(Exception):
    """drf-spectacular reported warnings or errors: the spec is incomplete somewhere."""


def build_schema(*, fail_on_warn: bool = True) -> dict:
    GENERATOR_STATS.reset()
    generator = spectacular_settings.DEFAULT_GENERATOR_CLASS()
    schema = generator.get_schema(request=None, public=True)
    if fail_on_warn and GENERATOR_STATS:
        warnings = sum(GENERATOR_STATS._warn_cache.values())
        errors = sum(GENERATOR_STATS._error_cache.values())
        problems = "; ".join([*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache])
        summary = f"{warnings} warning(s), {errors} error(s): {problems}"
        raise SchemaWarnings(summary)
    validate_schema(schema)
    return schema


def render_schema(schema: dict, fmt: str = "json") -> str:
    if fmt == "yaml":
        return OpenApiYamlRenderer().render(schema, renderer_context={}).decode()
    # Stable, diff-friendly JSON (the committed docs/openapi.json is compared byte for byte).
    return json.dumps(json.loads(OpenApiJsonRenderer().render(schema, renderer_context={})), indent=2) + "\n"
