"""Agent import/export text formats (contract 7): pure functions, no database.

Export: YAML front matter (keys in a fixed order, only when non-empty) + the system prompt as the
Markdown body. Import: front-matter Markdown, JSON, YAML or plain text, tried in that order.
"""

import json
import re
from typing import Any

import yaml

# Characters PyYAML refuses or folds inside a double-quoted scalar; json.dumps(ensure_ascii=False)
# leaves them literal, so they are escaped by hand. Everything else stays readable (UTF-8).
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def yaml_quote(value: Any) -> str:
    """A JSON rendering that is also valid, lossless YAML (double-quoted strings, flow mappings)."""
    text = json.dumps(value, ensure_ascii=False)
    return _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def export_markdown(
    *,
    name: str,
    system_prompt: str,
    description: str | None = None,
    default_model_id: str | None = None,
    tags: list[str] | None = None,
    capabilities: list[dict] | None = None,
) -> str:
    lines = ["---", f"name: {yaml_quote(name)}"]
    if description:
        lines.append(f"description: {yaml_quote(description)}")
    if default_model_id:
        lines.append(f"default_model_id: {yaml_quote(default_model_id)}")
    if tags:
        lines.append("tags:")
        lines.extend(f"  - {yaml_quote(tag)}" for tag in tags)
    if capabilities:
        lines.append("capabilities:")
        for ref in capabilities:
            if ref.get("config"):
                lines.append(f"  - {yaml_quote({'ref': ref['ref'], 'config': ref['config']})}")
            else:
                lines.append(f"  - {ref['ref']}")
    lines.append("---")
    return "\n".join(lines) + "\n" + system_prompt + ("" if system_prompt.endswith("\n") else "\n")


def export_filename(name: str) -> str:
    """`<slug>.md`: lower-case, non-alphanumerics -> '-', collapsed and trimmed (contract 7.1).

    Only ASCII letters and digits count as alphanumeric so the header stays plain ASCII;
    a name with none of them exports as `agent.md`.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"{slug or 'agent'}.md"


def _front_matter(text: str) -> dict | None:
    lines = text.split("\n")
    for index in range(1, len(lines)):
        if lines[index].rstrip("\r") == "---":
            try:
                data = yaml.safe_load("\n".join(lines[1:index])) or {}
            except yaml.YAMLError:
                return None
            if not isinstance(data, dict):
                return None
            body = "\n".join(lines[index + 1 :]).strip()
            if body:
                data["system_prompt"] = body
            return data
    return None


def _json_object(text: str) -> dict | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _yaml_mapping(text: str) -> dict | None:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if isinstance(data, dict) and ("name" in data or "system_prompt" in data):
        return data
    return None


def parse_import_text(text: str) -> dict:
    """The raw key/value mapping an import document describes (contract 7.2 order; failures fall through)."""
    text = text.strip()
    if text.startswith("---"):
        data = _front_matter(text)
        if data is not None:
            return data
    if text.startswith("{"):
        data = _json_object(text)
        if data is not None:
            return data
    data = _yaml_mapping(text)
    if data is not None:
        return data
    return {"system_prompt": text}
