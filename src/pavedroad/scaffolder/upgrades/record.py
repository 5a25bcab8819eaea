"""``.pavedroad/template.yaml``: the record a generated repository keeps of the template and the
values it was made from, so it can later be compared with (and upgraded to) the template's
current version.

``publish:git`` and ``publish:github`` write it into the folder they commit. It never holds a
secret: fields the form treats as secrets are masked, and every secret value of the run is
scrubbed from the text as a last line of defence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from pavedroad.core.errors import InputError
from pavedroad.scaffolder.engine import secret_fields
from pavedroad.scaffolder.hooks import ActionContext

RECORD_PATH = ".pavedroad/template.yaml"
VERSION_ANNOTATION = "pavedroad.dev/template-version"
MASK = "***"
HEADER = (
    "# Written by pavedroad: the software template this repository was generated from.\n"
    "# `pavedroad templates drift` and `pavedroad templates upgrade` read it; keep it committed.\n"
)


@dataclass(frozen=True)
class TemplateRecord:
    """What ``.pavedroad/template.yaml`` says."""

    template: str  # template:default/x
    version: str  # the template's pavedroad.dev/template-version, else its content hash
    content_version: str  # the content hash (TemplateSource.version): what is compared
    values: dict[str, Any] = field(default_factory=dict)
    generated_at: str = ""
    upgraded_at: str = ""
    source_path: str = "."  # the folder of the run's workspace that the repository holds

    def upgraded(
        self, version: str, content_version: str, values: Mapping[str, Any]
    ) -> TemplateRecord:
        return replace(
            self,
            version=version,
            content_version=content_version,
            values=dict(values),
            upgraded_at=_now(),
        )

    def to_yaml(self, secrets: Mapping[str, str] = {}) -> str:
        document: dict[str, Any] = {
            "template": self.template,
            "version": self.version,
            "contentVersion": self.content_version,
            "values": self.values,
            "generatedAt": self.generated_at,
        }
        if self.upgraded_at:
            document["upgradedAt"] = self.upgraded_at
        if self.source_path not in ("", "."):
            document["sourcePath"] = self.source_path
        text = HEADER + yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
        # A secret could still reach a plain parameter (typed into the wrong field): scrub it.
        for value in sorted({v for v in secrets.values() if v}, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text


def version_label(entity: Mapping[str, Any], content_version: str) -> str:
    """The version people read: the template's annotation, else its content hash."""
    annotations = (entity.get("metadata") or {}).get("annotations") or {}
    label = annotations.get(VERSION_ANNOTATION)
    return str(label) if label not in (None, "") else content_version


def short_version(version: str) -> str:
    """A version fit for branch names and tables (a 64-character hash is shortened)."""
    return version[:12] if len(version) == 64 else version


def records_template(entity: Mapping[str, Any]) -> bool:
    """False when the template opts out: ``spec.EXPERIMENTAL_pavedroad.recordTemplate: false``."""
    options = (entity.get("spec") or {}).get("EXPERIMENTAL_pavedroad") or {}
    return not (isinstance(options, Mapping) and options.get("recordTemplate") is False)


def recorded_values(entity: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` as they may be written down: every secret field masked."""
    hidden = secret_fields(entity)
    return {key: MASK if key in hidden else value for key, value in values.items()}


def write_record(context: ActionContext, folder: Path, source_path: str) -> None:
    """Write the record into ``folder`` (about to be committed) unless the run has no template
    identity (an action called outside a template run) or the template opts out."""
    if not context.template_version or not records_template(context.template_entity):
        return
    record = TemplateRecord(
        template=context.template_ref,
        version=version_label(context.template_entity, context.template_version),
        content_version=context.template_version,
        values=recorded_values(context.template_entity, context.template_values),
        generated_at=_now(),
        source_path=source_path,
    )
    target = folder / RECORD_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(record.to_yaml(context.secrets), encoding="utf-8")
    context.log(f"Recorded template {record.template} {record.version} in {RECORD_PATH}")


def read_record(text: str, where: str) -> TemplateRecord:
    """The record in ``text`` (read from ``where``); raises :class:`InputError` when it is not
    one."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InputError(f"{where}: {RECORD_PATH} is not valid YAML: {error}") from None
    if not isinstance(document, Mapping):
        raise InputError(f"{where}: {RECORD_PATH} holds no mapping")
    missing = [k for k in ("template", "contentVersion") if not document.get(k)]
    if missing:
        raise InputError(
            f"{where}: {RECORD_PATH} has no {' or '.join(missing)}",
            hint="it is written by pavedroad; restore it from the repository's history",
        )
    values = document.get("values") or {}
    return TemplateRecord(
        template=str(document["template"]),
        version=str(document.get("version") or document["contentVersion"]),
        content_version=str(document["contentVersion"]),
        values=dict(values) if isinstance(values, Mapping) else {},
        generated_at=str(document.get("generatedAt") or ""),
        upgraded_at=str(document.get("upgradedAt") or ""),
        source_path=str(document.get("sourcePath") or "."),
    )


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
