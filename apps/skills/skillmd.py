"""SKILL.md parsing and validation: YAML front matter (python-frontmatter, with the import documents' defensive
YAML loader: no aliases, bounded nesting) and a Markdown body.

Rules (the Agent Skills format): `name` is a kebab-case slug of at most 64 characters (lowercase letters, digits,
single hyphens); `description` is required, at most 1024 characters. Optional: `version`, `license`,
`compatibility`, `allowed-tools` (text or a list), `metadata` (an object), `user-invocable`,
`disable-model-invocation`. Unknown keys are reported as warnings and ignored.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

from apps.agents.transfer import ImportLoader

NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_SKILL_MD_BYTES = 1_048_576
KNOWN_KEYS = {
    "name",
    "description",
    "version",
    "license",
    "compatibility",
    "allowed-tools",
    "allowed_tools",
    "metadata",
    "user-invocable",
    "user_invocable",
    "disable-model-invocation",
    "disable_model_invocation",
}


class _SafeYAML(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        return yaml.load(fm, Loader=ImportLoader)  # noqa: S506 - ImportLoader is a SafeLoader subclass


@dataclass
class ParsedSkill:
    name: str | None = None
    description: str | None = None
    version: str | None = None
    instructions: str = ""
    license: str | None = None
    compatibility: str | None = None
    allowed_tools: str | None = None
    metadata: dict = field(default_factory=dict)
    user_invocable: bool = True
    disable_model_invocation: bool = False
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | str):
        return str(value)
    return None


def _flag(meta: dict, key: str, default: bool, parsed: ParsedSkill) -> bool:
    value = meta.get(key, meta.get(key.replace("-", "_"), default))
    if not isinstance(value, bool):
        parsed.errors.append(f"'{key}' must be true or false")
        return default
    return value


def parse(text: str) -> ParsedSkill:
    """Parse and check a SKILL.md; problems are collected in `errors` / `warnings`, never raised."""
    parsed = ParsedSkill()
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_SKILL_MD_BYTES:
        parsed.errors.append("SKILL.md is larger than 1 MiB")
        return parsed
    if "\x00" in text:
        parsed.errors.append("SKILL.md must not contain NUL characters")
        return parsed
    if not text.lstrip("\ufeff").startswith("---"):
        parsed.errors.append("SKILL.md must start with YAML front matter (---)")
        return parsed
    try:
        post = frontmatter.loads(text.lstrip("\ufeff"), handler=_SafeYAML())
    except (yaml.YAMLError, ValueError) as exc:
        parsed.errors.append(f"Front matter is not valid YAML: {str(exc).splitlines()[0][:200]}")
        return parsed
    meta = post.metadata
    if not isinstance(meta, dict) or not meta:
        parsed.errors.append("Front matter must be a YAML mapping with name and description")
        return parsed
    parsed.instructions = post.content.strip()
    name, description = _text(meta.get("name")), _text(meta.get("description"))
    parsed.name, parsed.description = name, description
    if not name:
        parsed.errors.append("'name' is required")
    elif len(name) > MAX_NAME or not NAME.match(name):
        parsed.errors.append("'name' must be lowercase letters, digits and single hyphens, at most 64 characters")
    if not description or not description.strip():
        parsed.errors.append("'description' is required")
    elif len(description) > MAX_DESCRIPTION:
        parsed.errors.append("'description' must be at most 1024 characters")
    version = _text(meta.get("version"))
    if version is not None and (not version.strip() or len(version) > 64):
        parsed.errors.append("'version' must be 1 to 64 characters")
    parsed.version = version
    parsed.license = _text(meta.get("license"))
    parsed.compatibility = _text(meta.get("compatibility"))
    tools = meta.get("allowed-tools", meta.get("allowed_tools"))
    if isinstance(tools, list) and all(isinstance(t, str) for t in tools):
        parsed.allowed_tools = ", ".join(tools)
    elif tools is not None:
        parsed.allowed_tools = _text(tools)
        if parsed.allowed_tools is None:
            parsed.errors.append("'allowed-tools' must be text or a list of text")
    metadata = meta.get("metadata", {})
    if not isinstance(metadata, dict):
        parsed.errors.append("'metadata' must be a mapping")
    else:
        parsed.metadata = metadata
    parsed.user_invocable = _flag(meta, "user-invocable", True, parsed)
    parsed.disable_model_invocation = _flag(meta, "disable-model-invocation", False, parsed)
    for key in sorted(set(map(str, meta)) - KNOWN_KEYS):
        parsed.warnings.append(f"Unknown front matter key '{key}' is ignored")
    if not parsed.instructions:
        parsed.warnings.append("SKILL.md has no instructions after the front matter")
    return parsed
