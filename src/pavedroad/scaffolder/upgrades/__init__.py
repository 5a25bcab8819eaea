"""Keeping generated repositories current with their templates.

A run that publishes records its template, version and values in ``.pavedroad/template.yaml``
(:mod:`.record`) and keeps a snapshot of the template's files (:mod:`.snapshots`). The drift
report compares each repository's record with the template's current version (:mod:`.drift`);
an upgrade three-way merges the newer version onto a new branch (:mod:`.upgrade`). See
``docs/template-upgrades.md``.

Only the record and snapshot modules are imported here: ``publish:git`` and the task runner use
them, and the drift and upgrade modules import the actions in turn.
"""

from pavedroad.scaffolder.upgrades.record import (
    RECORD_PATH,
    TemplateRecord,
    read_record,
    records_template,
    write_record,
)
from pavedroad.scaffolder.upgrades.snapshots import keep_snapshot, load_snapshot

__all__ = [
    "RECORD_PATH",
    "TemplateRecord",
    "keep_snapshot",
    "load_snapshot",
    "read_record",
    "records_template",
    "write_record",
]
