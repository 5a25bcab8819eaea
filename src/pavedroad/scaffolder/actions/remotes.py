"""Where publishing actions push: a local bare repository (``file://``; created when it is
under ``scaffolder.repositories_root``) or an HTTPS remote on an allowed host. An existing
repository that has any commit is never written to."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pavedroad.config import Settings
from pavedroad.scaffolder.actions.base import ActionError
from pavedroad.scaffolder.actions.git_commands import run_git


@dataclass(frozen=True)
class Remote:
    """A push target: ``url`` as git reads it, ``path`` for local ones."""

    url: str
    path: Path | None = None
    creatable: bool = False  # a local path under the repositories root that may be created

    @property
    def shown(self) -> str:
        return self.url


def parse_remote(repo_url: str, settings: Settings) -> Remote:
    """The remote ``repo_url`` names, refused unless pavedroad may push there."""
    parts = urlsplit(repo_url)
    if parts.scheme == "https":
        if parts.username or parts.password:
            raise ActionError(
                "repoUrl holds credentials; give the token as the token input "
                "(from secrets), never in the URL"
            )
        host = parts.hostname or ""
        allowed = settings.scaffolder.allowed_hosts
        if host not in allowed:
            raise ActionError(
                f"host {host!r} is not allowed (allowed: {', '.join(allowed)})",
                "add it to PAVEDROAD_SCAFFOLDER__ALLOWED_HOSTS",
            )
        return Remote(repo_url)
    if parts.scheme == "file" or (not parts.scheme and os.path.isabs(repo_url)):
        return _local(Path(unquote(parts.path) if parts.scheme else repo_url), settings)
    raise ActionError(
        f"cannot push to {repo_url!r}", "use a file:// URL of a bare repository or an https:// URL"
    )


def _local(path: Path, settings: Settings) -> Remote:
    resolved = Path(os.path.realpath(path))
    root = Path(os.path.realpath(settings.resolved_repositories_root))
    inside = resolved != root and resolved.is_relative_to(root)
    if not inside and not resolved.exists():
        raise ActionError(
            f"{resolved} does not exist; publish:git creates repositories only under {root}",
            "create the bare repository first, or publish under "
            "PAVEDROAD_SCAFFOLDER__REPOSITORIES_ROOT",
        )
    return Remote(resolved.as_uri(), resolved, creatable=inside)


def claim(remote: Remote, branch: str, token: str | None) -> None:
    """Make sure pushing to ``remote`` overwrites nothing; create it when pavedroad may."""
    if remote.path is not None and remote.creatable:
        try:
            remote.path.parent.mkdir(parents=True, exist_ok=True)
            remote.path.mkdir()  # fails if another run got there first
        except FileExistsError:
            pass
        else:
            run_git(["init", "--quiet", "--bare", "-b", branch, str(remote.path)], cwd=remote.path)
            return
    if remote.path is not None and not (remote.path / "HEAD").is_file():
        raise ActionError(f"{remote.path} is not a bare git repository; not touching it")
    refs = run_git(["ls-remote", remote.url], cwd=remote.path, token=token)
    if refs.strip():
        raise ActionError(
            f"the repository {remote.shown} already exists and has commits; pavedroad never "
            "overwrites a repository",
            "choose another repository name",
        )
