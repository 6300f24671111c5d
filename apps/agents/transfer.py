"""Agent import/export text formats (contract 7): pure functions, no database.

Export: YAML front matter (keys in a fixed order, only when non-empty) + the system prompt as the
Markdown body. Import: front-matter Markdown, JSON, YAML or plain text, tried in that order.

Import documents are untrusted, so YAML is read with `ImportLoader` (see there), never `yaml.safe_load`.
"""

import json
import re
from typing import Any, NoReturn

import yaml

# Deepest nesting an import document may use (YAML and JSON): real agent documents need 4-5 levels; without a
# cap a 3 MB "[[[[..." ends in a RecursionError (a 500) inside the parsers.
MAX_IMPORT_DEPTH = 64


class ImportLoader(yaml.SafeLoader):
    """SafeLoader for untrusted import documents.

    - Aliases (`*name`, also `<<: *name` merges) are refused: a few hundred bytes of nested aliases expand to
      gigabytes once the document is turned into Python objects or JSON ("billion laughs"). Anchors alone are
      harmless and accepted.
    - Nesting deeper than MAX_IMPORT_DEPTH is refused (the composer is recursive).
    - Timestamps stay text and `!!binary` is refused: every value must be storable as JSON.
    A refusal is a yaml.YAMLError, i.e. "this is not YAML" for the import's fall-through rules (contract 7.2).
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise self._refuse("YAML aliases are not accepted")
        self._depth += 1
        try:
            if self._depth > MAX_IMPORT_DEPTH:
                raise self._refuse("document nested too deeply")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _refuse(self, problem: str) -> yaml.YAMLError:
        return yaml.composer.ComposerError(None, None, problem, self.peek_event().start_mark)

    def construct_binary(self, node: yaml.Node) -> NoReturn:
        raise yaml.constructor.ConstructorError(None, None, "binary values are not accepted", node.start_mark)


# yaml-stubs type the constructor's self as a Loader class, but construct_yaml_str is declared on SafeConstructor.
ImportLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)  # type: ignore[type-var]
ImportLoader.add_constructor("tag:yaml.org,2002:binary", ImportLoader.construct_binary)


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=ImportLoader)  # noqa: S506 - ImportLoader is a hardened SafeLoader


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of a JSON value, counting no further than limit + 1."""
    if limit < 0 or not isinstance(value, dict | list):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(child, limit - 1) for child in children), default=0)


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
    extra: dict[str, Any] | None = None,
) -> str:
    """`extra`: the spec's further settings (display_name, harness, tools, …), written after the contract's keys
    in the given order when set, each as one JSON-style flow value (valid YAML)."""
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
    for key, value in (extra or {}).items():
        if value not in (None, [], {}):
            lines.append(f"{key}: {yaml_quote(value)}")
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
                data = _load_yaml("\n".join(lines[1:index])) or {}
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
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or _depth(data, MAX_IMPORT_DEPTH) > MAX_IMPORT_DEPTH:
        return None
    return data


def _yaml_mapping(text: str) -> dict | None:
    try:
        data = _load_yaml(text)
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
