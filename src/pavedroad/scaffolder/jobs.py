"""The scaffolder's background work: failing tasks whose runner stopped (a restart)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pavedroad.scaffolder import tasks

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)


def fail_abandoned_tasks(runtime: Runtime) -> list[str]:
    with runtime.db.session() as session:
        failed = tasks.fail_abandoned(session)
    if failed:
        log.warning("template runs interrupted by a restart were failed", extra={"tasks": failed})
    return failed
