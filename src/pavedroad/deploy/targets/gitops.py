"""The ``gitops`` target: a deploy is a commit in a GitOps repository that Argo CD or Flux
applies. It writes the version into a kustomization's ``images[].newTag`` or a Helm values key,
commits with a message that links the deploy, and pushes. A rollback is ``git revert`` of the
bad deploy's commit, pushed the same way, so auto-sync cannot apply the bad version again.

Someone else pushing first is normal in a shared repository: the commit is rebased once on
theirs and pushed again; a second refusal, or a change of theirs to the same line, is a
TargetError that says so. Credentials are git's own (the platform user's credential helper or
SSH key); pavedroad keeps none for this.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pavedroad.core.git import failure_reason, git
from pavedroad.deploy.hooks import TargetContext, TargetError, TargetResult
from pavedroad.deploy.targets.gitops_files import read_version, set_version

PROTOCOLS = "file:https:ssh:git"
DEFAULT_AUTHOR = ("pavedroad", "pavedroad@localhost")


@dataclass(frozen=True, slots=True)
class GitOpsConfig:
    """``gitops:`` of ``.pavedroad/deploy.yaml`` (or the environment's settings)."""

    repository: str
    path: str
    image: str | None = None
    values_key: str | None = None
    branch: str | None = None  # None: the repository's default branch
    author_name: str = DEFAULT_AUTHOR[0]
    author_email: str = DEFAULT_AUTHOR[1]
    url: str | None = None  # where the service answers once applied (for analysis)
    metrics_url: str | None = None

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> GitOpsConfig:
        section = config.get("gitops")
        if not isinstance(section, Mapping) or not section.get("repository"):
            raise TargetError(
                "the gitops target needs `gitops.repository` (and `path`, with `image` for a "
                "kustomization or `values_key` for a Helm values file) in .pavedroad/deploy.yaml"
            )
        values_key = section.get("values_key")
        path = section.get("path") or ("values.yaml" if values_key else "kustomization.yaml")
        if not values_key and not section.get("image"):
            raise TargetError(
                "the gitops target needs `gitops.image` (the kustomization's images[].name) "
                "or `gitops.values_key` (a Helm values key such as image.tag)"
            )
        return cls(
            repository=str(section["repository"]),
            path=str(path).lstrip("/"),
            image=str(section["image"]) if section.get("image") else None,
            values_key=str(values_key) if values_key else None,
            branch=str(section["branch"]) if section.get("branch") else None,
            author_name=str(section.get("author_name") or DEFAULT_AUTHOR[0]),
            author_email=str(section.get("author_email") or DEFAULT_AUTHOR[1]),
            url=str(section["url"]) if section.get("url") else None,
            metrics_url=str(section["metrics_url"]) if section.get("metrics_url") else None,
        )

    @classmethod
    def of_state(cls, state: Mapping[str, Any]) -> GitOpsConfig:
        return cls.of({"gitops": state})

    def as_state(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "path": self.path,
            "image": self.image,
            "values_key": self.values_key,
            "branch": self.branch,
            "url": self.url,
            "metrics_url": self.metrics_url,
        }


class _Clone:
    """A working clone of the GitOps repository for one deploy, removed afterwards."""

    def __init__(self, config: GitOpsConfig, parent: Path, log: Callable[[str], None]) -> None:
        self.config = config
        self.log = log
        parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="gitops-", dir=parent))
        self.dir = self.root / "repository"
        self.env = {
            "GIT_AUTHOR_NAME": config.author_name,
            "GIT_AUTHOR_EMAIL": config.author_email,
            "GIT_COMMITTER_NAME": config.author_name,
            "GIT_COMMITTER_EMAIL": config.author_email,
        }
        args = ["clone", "--quiet", "--template=", config.repository, str(self.dir)]
        if config.branch:
            args[2:2] = ["--branch", config.branch]
        try:
            self.run(args, cwd=self.root, what=f"cannot clone {config.repository}")
            self.branch = config.branch or self.run(
                ["rev-parse", "--abbrev-ref", "HEAD"], what="cannot read the branch"
            )
        except TargetError:
            self.close()
            raise

    def run(self, args: list[str], *, what: str, cwd: Path | None = None) -> str:
        done = self.try_run(args, cwd=cwd)
        if done[0] != 0:
            raise TargetError(f"{what}: {done[1]}")
        return done[2]

    def try_run(self, args: list[str], *, cwd: Path | None = None) -> tuple[int, str, str]:
        completed = git(
            ["-c", "core.hooksPath=/dev/null", *args],
            cwd=cwd or self.dir,
            extra_env=self.env,
            protocols=PROTOCOLS,
        )
        return completed.returncode, failure_reason(completed.stderr), completed.stdout.strip()

    @property
    def file(self) -> Path:
        return self.dir / self.config.path

    def read(self) -> str:
        if not self.file.is_file():
            raise TargetError(
                f"{self.config.path} is not in {self.config.repository} "
                f"(branch {self.branch}): create it, or set `gitops.path`"
            )
        return self.file.read_text()

    def version(self) -> str | None:
        return read_version(
            self.read(),
            where=self.config.path,
            image=self.config.image,
            values_key=self.config.values_key,
        )

    def write(self, version: str) -> str | None:
        """Set the version in the file; returns what was there before."""
        edited = set_version(
            self.read(),
            version,
            where=self.config.path,
            image=self.config.image,
            values_key=self.config.values_key,
        )
        if not edited.kept_comments:
            self.log(f"{self.config.path} was rewritten whole: its comments were not kept")
        self.file.write_text(edited.text)
        return edited.previous

    def commit(self, message: str) -> str:
        self.run(["add", "--", self.config.path], what="cannot stage the change")
        self.run(["commit", "--quiet", "--allow-empty", "-m", message], what="cannot commit")
        return self.head()

    def head(self) -> str:
        return self.run(["rev-parse", "HEAD"], what="cannot read the commit")

    def push(self) -> str:
        """Push; if refused (someone pushed first), rebase once on theirs and push again."""
        code, reason, _ = self.try_run(["push", "--quiet", "origin", f"HEAD:{self.branch}"])
        if code == 0:
            return self.head()
        self.log(f"the push was refused ({reason}); rebasing on what was pushed meanwhile")
        self.run(["fetch", "--quiet", "origin", self.branch], what="cannot fetch")
        code, why, _ = self.try_run(["rebase", "--quiet", f"origin/{self.branch}"])
        if code != 0:
            self.try_run(["rebase", "--abort"])
            raise TargetError(
                f"someone else changed {self.config.path} in {self.config.repository} "
                f"meanwhile and the deploy's commit does not apply on theirs ({why}); "
                "nothing was pushed"
            )
        code, reason, _ = self.try_run(["push", "--quiet", "origin", f"HEAD:{self.branch}"])
        if code != 0:
            raise TargetError(
                f"the push to {self.config.repository} (branch {self.branch}) was refused "
                f"twice: {reason}; nothing was pushed"
            )
        return self.head()

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _data_dir(context: TargetContext) -> Path:
    if str(context.data_dir) not in ("", "."):
        return context.data_dir
    return Path(context.runtime.settings.data_dir)


class GitOpsTarget:
    """Deploys by pushing a commit to a GitOps repository (Argo CD, Flux apply it)."""

    name = "gitops"

    def deploy(self, context: TargetContext) -> TargetResult:
        config = GitOpsConfig.of(context.config)
        clone = _Clone(config, _data_dir(context) / "gitops", context.log)
        try:
            before = clone.write(context.version)
            message = (
                f"Deploy {context.component_ref} {context.version} to {context.environment} "
                f"(pavedroad deployment {context.deployment_id})\n\n"
                f"Previous version: {before or 'none'}"
                + (f"\nSource commit: {context.commit}" if context.commit else "")
            )
            clone.commit(message)
            pushed = clone.push()
            context.log(f"pushed {pushed[:12]} to {config.repository} ({clone.branch})")
            return self._result(config, clone.branch, context, pushed, before)
        finally:
            clone.close()

    def rollback(self, context: TargetContext, to: Mapping[str, Any]) -> TargetResult:
        """Revert the live deploy's commit when that brings back ``to``'s version; else (the
        version to go back to is older than the one before) a commit that sets it."""
        config = GitOpsConfig.of(context.config) if context.config.get("gitops") else None
        config = config or GitOpsConfig.of_state(to)
        version = str(to.get("version") or context.version)
        bad = (context.previous or {}).get("commit")
        clone = _Clone(config, _data_dir(context) / "gitops", context.log)
        try:
            reverted = False
            if isinstance(bad, str) and bad:
                reverted = self._revert(clone, context, bad, version)
            if not reverted:
                before = clone.write(version)
                clone.commit(
                    f"Roll back {context.component_ref} to {version} in {context.environment} "
                    f"(pavedroad deployment {context.deployment_id})\n\n"
                    f"Previous version: {before or 'none'}"
                )
            pushed = clone.push()
            context.log(f"pushed the rollback {pushed[:12]} to {config.repository}")
            result = self._result(config, clone.branch, context, pushed, None)
            result.state.update(version=version, reverts=bad if reverted else None)
            return result
        finally:
            clone.close()

    def status(self, state: Mapping[str, Any]) -> bool:
        """Whether the repository's file holds the state's version now."""
        try:
            config = GitOpsConfig.of_state(state)
        except TargetError:
            return False
        parent = Path(tempfile.gettempdir())
        try:
            clone = _Clone(config, parent, lambda _line: None)
        except TargetError:
            return False
        try:
            return clone.version() == str(state.get("version"))
        except TargetError:
            return False
        finally:
            clone.close()

    def _revert(self, clone: _Clone, context: TargetContext, bad: str, version: str) -> bool:
        code, _, _ = clone.try_run(["revert", "--no-commit", bad])
        if code != 0:
            clone.try_run(["revert", "--abort"])
            clone.try_run(["reset", "--hard", "--quiet", "HEAD"])
            context.log(f"{bad[:12]} does not revert cleanly: setting {version} instead")
            return False
        if clone.version() != version:
            clone.run(["reset", "--hard", "--quiet", "HEAD"], what="cannot undo the revert")
            return False
        subject = clone.run(["log", "-1", "--format=%s", bad], what="cannot read the commit")
        clone.run(
            [
                "commit",
                "--quiet",
                "--allow-empty",
                "-m",
                f'Revert "{subject}"\n\nThis reverts commit {bad}.\n'
                f"Roll back {context.component_ref} to {version} in {context.environment} "
                f"(pavedroad deployment {context.deployment_id}).",
            ],
            what="cannot commit the revert",
        )
        return True

    def _result(
        self,
        config: GitOpsConfig,
        branch: str,
        context: TargetContext,
        pushed: str,
        before: str | None,
    ) -> TargetResult:
        state = {
            **config.as_state(),
            "branch": branch,
            "commit": pushed,
            "version": context.version,
            "previous_version": before,
        }
        return TargetResult(state=state, url=config.url, metrics_url=config.metrics_url)
