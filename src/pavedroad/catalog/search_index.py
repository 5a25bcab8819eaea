"""Flattening an entity into Backstage's search rows, and the text the full-text filter scans.

Rules (Backstage's ``buildEntitySearch``): nested keys are joined with dots; list items keep the
list's key; keys and values are lower-cased; ``null`` is a row without value; a key over 200
characters is dropped, a value over 200 characters is kept without its value.

Two departures that keep the table a sixth smaller without changing what filters match:
Backstage also writes ``<key>.<item> = true`` for every string in a list (so that
``metadata.tags.java`` works as an existence filter); here such rows are marked ``in_array``
instead and the filter asks for them (see ``queries``). ``metadata.uid`` is answered from the
entities table. ``relations`` are answered from the relations table.
"""

from __future__ import annotations

from typing import Any

MAX_KEY_LENGTH = 200
MAX_VALUE_LENGTH = 200
_SKIPPED = {"attachments", "relations", "status"}
_SKIPPED_METADATA = {"name", "namespace", "uid", "etag"}

SearchRow = tuple[str, str | None, str | None, bool]
Found = dict[tuple[str, str | None], tuple[str | None, bool]]


def search_rows(entity: dict[str, Any]) -> list[SearchRow]:
    """``(key, value, original_value, in_array)`` rows, deduplicated on (key, value)."""
    found: Found = {}
    for key, value in entity.items():
        if key in _SKIPPED:
            continue
        if key == "metadata" and type(value) is dict:
            for meta_key, meta_value in value.items():
                if meta_key not in _SKIPPED_METADATA:
                    _flatten(f"metadata.{meta_key}".lower(), meta_value, found)
            continue
        _flatten(str(key).lower(), value, found)
    metadata = entity.get("metadata") or {}
    for key in ("name", "namespace"):
        _flatten(f"metadata.{key}", metadata.get(key), found)
    return [
        (key, value, original, in_array) for (key, value), (original, in_array) in found.items()
    ]


def _flatten(key: str, value: Any, found: Found, in_array: bool = False) -> None:
    # Written for speed: this runs for every field of every entity during ingestion.
    kind = type(value)
    if kind is dict:
        for child, item in value.items():
            _flatten(f"{key}.{child}".lower(), item, found)
        return
    if kind is list:
        for item in value:
            _flatten(key, item, found, type(item) is str)
        return
    if len(key) > MAX_KEY_LENGTH:
        return
    if kind is str:
        original: str | None = value
    elif value is None:
        original = None
    else:
        original = _text(value)
    if original is None:
        found.setdefault((key, None), (None, False))
        return
    lowered = original.lower()
    if len(lowered) > MAX_VALUE_LENGTH:
        found.setdefault((key, None), (None, False))
    elif (key, lowered) in found:
        if in_array and not found[(key, lowered)][1]:
            found[(key, lowered)] = (found[(key, lowered)][0], True)
    else:
        found[(key, lowered)] = (original, in_array)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def full_text(entity: dict[str, Any]) -> str:
    """Lower-cased text that the default full-text filter searches: names, title, description,
    tags, type and display name, separated so that a term cannot match across two of them."""
    metadata: dict[str, Any] = entity.get("metadata") or {}
    spec: dict[str, Any] = entity["spec"] if isinstance(entity.get("spec"), dict) else {}
    profile: dict[str, Any] = spec["profile"] if isinstance(spec.get("profile"), dict) else {}
    parts: list[Any] = [
        metadata.get("name"),
        metadata.get("title"),
        metadata.get("description"),
        spec.get("type"),
        profile.get("displayName"),
    ]
    tags = metadata.get("tags")
    if isinstance(tags, list):
        parts.extend(tags)
    return "\n".join(str(part) for part in parts if isinstance(part, str | int | float)).lower()
