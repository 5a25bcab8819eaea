"""Flattening an entity into Backstage's search rows, and the text the full-text filter scans.

Rules (Backstage's ``buildEntitySearch``): nested keys are joined with dots; list items keep the
list's key, and a string item also yields ``<key>.<item> = true`` (so ``metadata.tags.java``
works as an existence filter); keys and values are lower-cased; ``null`` is a row without value;
a key over 200 characters is dropped, a value over 200 characters is kept without its value.
``relations`` are not flattened here: relation filters are answered from the relations table.
"""

from __future__ import annotations

from typing import Any

MAX_KEY_LENGTH = 200
MAX_VALUE_LENGTH = 200
_SKIPPED = {"attachments", "relations", "status"}
_SKIPPED_METADATA = {"name", "namespace", "uid", "etag"}

SearchRow = tuple[str, str | None, str | None]


def search_rows(entity: dict[str, Any]) -> list[SearchRow]:
    """``(key, value, original_value)`` rows of an entity, deduplicated on (key, value)."""
    rows: list[SearchRow] = []
    seen: set[tuple[str, str | None]] = set()

    def emit(key: str, value: Any) -> None:
        key = key.lower()
        if len(key) > MAX_KEY_LENGTH:
            return
        original = _text(value)
        lowered = original.lower() if original is not None else None
        if lowered is not None and len(lowered) > MAX_VALUE_LENGTH:
            original = lowered = None
        marker = (key, lowered)
        if marker not in seen:
            seen.add(marker)
            rows.append((key, lowered, original))

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{path}.{key}" if path else str(key), item)
        elif isinstance(value, list):
            for item in value:
                walk(path, item)
                if isinstance(item, str):
                    emit(f"{path}.{item}", True)
        else:
            emit(path, value)

    for key, value in entity.items():
        if key in _SKIPPED:
            continue
        if key == "metadata" and isinstance(value, dict):
            for meta_key, meta_value in value.items():
                if meta_key not in _SKIPPED_METADATA:
                    walk(f"metadata.{meta_key}", meta_value)
            continue
        walk(key, value)
    metadata = entity.get("metadata") or {}
    emit("metadata.name", metadata.get("name"))
    emit("metadata.namespace", metadata.get("namespace"))
    emit("metadata.uid", metadata.get("uid"))
    return rows


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
