"""``publish:github:pull-request``: the workspace proposed as a pull request to an existing
GitHub repository. Its dry run is Backstage's (the outputs say what would be opened); a real run
pushes a new branch over HTTPS with a token and opens the pull request through GitHub's REST
API. Not tested against GitHub here."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx

from pavedroad.scaffolder.actions.base import (
    ActionError,
    BuiltinAction,
    boolean,
    obj,
    string,
    strings,
)
from pavedroad.scaffolder.actions.git_commands import run_git
from pavedroad.scaffolder.actions.publish_git import DEFAULT_AUTHOR, github_remote, token_of
from pavedroad.scaffolder.actions.skeletons import walk_files
from pavedroad.scaffolder.actions.workspace import safe_child_path
from pavedroad.scaffolder.engine.filters import parse_repo_url
from pavedroad.scaffolder.hooks import ActionContext

DRY_RUN_NUMBER = 43  # what Backstage's dry run outputs as the pull request number


class PublishGithubPullRequest(BuiltinAction):
    id = "publish:github:pull-request"
    description = (
        "Proposes the workspace (or `sourcePath`) as a pull request on branch `branchName` of "
        "the GitHub repository `repoUrl`, under `targetPath` in it. An existing branch is never "
        "overwritten. Not tested against GitHub here."
    )
    input_schema = {
        **obj(
            ["repoUrl", "branchName", "title", "description"],
            repoUrl=string("github.com?owner=<owner>&repo=<repo>"),
            branchName=string("The new branch."),
            targetBranchName=string("The branch to merge into; default the repository's."),
            title=string("The pull request's title."),
            description=string("The pull request's description (Markdown)."),
            draft=boolean("Open it as a draft."),
            sourcePath=string("The folder of the workspace to propose."),
            targetPath=string("Where in the repository to put it."),
            commitMessage=string("The commit message; default the title."),
            reviewers=strings("Reviewers (not requested here)."),
            token=string("A token (e.g. ${{ secrets.token }}); default the secret named token."),
        ),
        "additionalProperties": True,  # Backstage's action has more options
    }
    output_schema = obj(
        ["remoteUrl"],
        remoteUrl=string("The pull request."),
        pullRequestNumber={"type": "number"},
        targetBranchName=string("The branch it merges into."),
    )

    def handler(self, context: ActionContext) -> None:
        given = context.input
        remote = github_remote(context)
        if context.dry_run:
            context.log("Performing dry run of creating pull request")
            context.output("targetBranchName", given["branchName"])
            context.output("remoteUrl", given["repoUrl"])
            context.output("pullRequestNumber", DRY_RUN_NUMBER)
            context.log("Dry run complete")
            return
        token = token_of(context)
        if not token:
            raise ActionError("a pull request needs a token", "pass token: ${{ secrets.token }}")
        with tempfile.TemporaryDirectory(prefix="pavedroad-pr-") as scratch:
            base = _push_branch(context, remote.url, Path(scratch), token)
        opened = _open_pull_request(context, token, base)
        context.output("remoteUrl", opened["html_url"])
        context.output("pullRequestNumber", opened["number"])
        context.output("targetBranchName", opened["base"]["ref"])


def _push_branch(context: ActionContext, url: str, scratch: Path, token: str) -> str:
    given = context.input
    branch = str(given["branchName"])
    if run_git(["ls-remote", "--heads", url, branch], cwd=scratch, token=token).strip():
        raise ActionError(
            f"branch {branch} exists already; pavedroad never overwrites a branch",
            "choose another branchName",
        )
    clone = scratch / "repository"
    target = given.get("targetBranchName")
    run_git(
        [
            "clone",
            "--quiet",
            "--depth",
            "1",
            *(["--branch", target] if target else []),
            url,
            str(clone),
        ],
        cwd=scratch,
        token=token,
    )
    base = target or run_git(["rev-parse", "--abbrev-ref", "HEAD"], cwd=clone).strip()
    run_git(["checkout", "--quiet", "-b", branch], cwd=clone)
    source = safe_child_path(context.workspace, given.get("sourcePath") or ".", what="sourcePath")
    into = safe_child_path(clone, given.get("targetPath") or ".", what="targetPath")
    for path in walk_files(source):
        destination = into / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination, follow_symlinks=False)
    run_git(["add", "--all"], cwd=clone)
    message = str(given.get("commitMessage") or given["title"])
    run_git(["commit", "--quiet", "-m", message], cwd=clone, author=DEFAULT_AUTHOR)
    run_git(["push", "--quiet", "origin", f"HEAD:refs/heads/{branch}"], cwd=clone, token=token)
    return str(base)


def _open_pull_request(context: ActionContext, token: str, base: str) -> dict[str, Any]:
    given = context.input
    settings = context.runtime.settings
    parts = parse_repo_url(given["repoUrl"], settings.scaffolder.allowed_hosts)
    host = parts["host"]
    api = "https://api.github.com" if host == "github.com" else f"https://{host}/api/v3"
    response = httpx.post(
        f"{api}/repos/{parts['owner']}/{parts['repo']}/pulls",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
        json={
            "title": given["title"],
            "body": given["description"],
            "head": given["branchName"],
            "base": base,
            "draft": bool(given.get("draft")),
        },
        timeout=30,
    )
    if response.status_code >= 300:
        raise ActionError(
            f"GitHub refused the pull request ({response.status_code}): {response.text[:300]}"
        )
    opened: dict[str, Any] = response.json()
    return opened
