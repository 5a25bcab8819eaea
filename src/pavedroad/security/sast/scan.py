"""One SAST scan of a repository: bandit for Python and semgrep for the other languages, side by
side; either failing fails the scan (a partial scan is not reported as a clean one)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pavedroad.core.errors import PavedroadError
from pavedroad.security.results import ScanResult
from pavedroad.security.sast.bandit import run_bandit
from pavedroad.security.sast.semgrep import SEMGREP_HOME, run_semgrep
from pavedroad.security.scanners import SCRIPTS_DIR, ScannersFailedError, search_path

DEFAULT_TIMEOUT_SECONDS = 300.0
EXCLUDED = (".git", ".venv", "venv", "node_modules", ".tox", "__pycache__", "build", "dist")
TEST_FOLDERS = ("tests", "test")
TOOL_DIRS = (SCRIPTS_DIR, SEMGREP_HOME)


def scan_sast(
    root: Path,
    *,
    env: Mapping[str, str],
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    exclude_tests: bool = False,
    extra_rules: Sequence[Path] = (),
    tool_dirs: Sequence[Path] = TOOL_DIRS,
) -> ScanResult:
    """Scans ``root``. Scanners are looked up on ``env``'s PATH, then in ``tool_dirs``;
    raises ScannerNotInstalledError or ScannerCrashedError, or ScannersFailedError naming both."""
    path = search_path(env.get("PATH"), extra=tool_dirs)
    exclude = (*EXCLUDED, *(TEST_FOLDERS if exclude_tests else ()))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="sast") as pool:
        bandit = pool.submit(
            run_bandit, root, path=path, env=env, timeout_seconds=timeout_seconds, exclude=exclude
        )
        semgrep = pool.submit(
            run_semgrep,
            root,
            path=path,
            env=env,
            timeout_seconds=timeout_seconds,
            exclude=exclude,
            extra_rules=extra_rules,
        )
        errors = [error for future in (bandit, semgrep) if (error := future.exception())]
    for error in errors:
        if not isinstance(error, PavedroadError) or len(errors) == 1:
            raise error
    if errors:
        raise ScannersFailedError([error for error in errors if isinstance(error, PavedroadError)])
    return bandit.result().merge(semgrep.result())
