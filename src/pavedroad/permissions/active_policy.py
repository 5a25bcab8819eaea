"""The policy in force: the configured file, read again when it changes, or the default policy.

Checking the file is cheap (one ``stat``) but is still done at most once a second, when a
decision is asked; there is no watcher thread. A file that breaks keeps the last good policy
in force and its problems in :attr:`ActivePolicy.errors` (and the log) until it is fixed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from pavedroad.permissions.policy import DEFAULT_POLICY_FILE, Policy
from pavedroad.permissions.policy_file import PolicyFileError, load_policy_file
from pavedroad.permissions.rules import RuleRegistry

CHECK_INTERVAL_SECONDS = 1.0

log = logging.getLogger(__name__)

Stamp = tuple[int, int] | None


class ActivePolicy:
    """Holds the current :class:`Policy`; raises :class:`PolicyFileError` at start if the
    configured file is invalid."""

    def __init__(
        self,
        path: Path | None,
        rules: RuleRegistry,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path or DEFAULT_POLICY_FILE
        self.watched = path is not None
        self.rules = rules
        self.errors: list[str] = []
        self._clock = clock
        self._stamp = _stamp(self.path)
        self._policy = load_policy_file(self.path, rules)
        self._checked_at = clock()

    def current(self) -> Policy:
        """The policy, read again first if the file changed since it was last checked."""
        if self.watched and self._clock() - self._checked_at >= CHECK_INTERVAL_SECONDS:
            self._checked_at = self._clock()
            stamp = _stamp(self.path)
            if stamp != self._stamp:
                self._stamp = stamp
                self.reload()
        return self._policy

    def reload(self) -> bool:
        """Read the file now; on problems keep the last good policy and record them."""
        try:
            policy = load_policy_file(self.path, self.rules)
        except PolicyFileError as error:
            self.errors = [problem.describe() for problem in error.problems]
            log.error(
                "permission policy not reloaded; the last good one stays in force",
                extra={"file": str(self.path), "problems": self.errors},
            )
            return False
        self._policy = policy
        self.errors = []
        log.info("permission policy reloaded", extra={"file": str(self.path)})
        return True


def _stamp(path: Path) -> Stamp:
    """What tells a changed file: modification time and size (None when it is missing)."""
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size
