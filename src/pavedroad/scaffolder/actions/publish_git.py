"""``publish:git`` (pavedroad's own) and ``publish:github``: the workspace (or ``sourcePath``)
committed into a new repository and pushed, never over an existing one."""

from __future__ import annotations

from typing import Any

from pavedroad.scaffolder.actions.base import ActionError, BuiltinAction, obj, string, strings
from pavedroad.scaffolder.actions.git_commands import Author, run_git
from pavedroad.scaffolder.actions.remotes import Remote, claim, parse_remote
from pavedroad.scaffolder.actions.workspace import safe_child_path
from pavedroad.scaffolder.engine.filters import FilterError, parse_repo_url
from pavedroad.scaffolder.hooks import ActionContext
from pavedroad.scaffolder.upgrades.record import write_record

DEFAULT_AUTHOR = Author("Scaffolder", "scaffolder@pavedroad.invalid")

COMMIT_INPUTS: dict[str, dict[str, Any]] = {
    "sourcePath": string("The folder of the workspace to publish; default all of it."),
    "defaultBranch": string("The branch to create; default main."),
    "gitCommitMessage": string("The commit message; default 'Initial commit'."),
    "gitAuthorName": string("The commit's author; default Scaffolder."),
    "gitAuthorEmail": string("The author's email."),
    "token": string(
        "A token for HTTPS remotes (e.g. ${{ secrets.token }}); default the "
        "run's secret named token."
    ),
}
PUBLISH_OUTPUT = obj(
    ["remoteUrl", "repoContentsUrl", "commitHash"],
    remoteUrl=string("The repository."),
    repoContentsUrl=string("The repository as catalog:register reads it (add #<path>)."),
    commitHash=string("The commit pushed."),
    defaultBranch=string("The branch pushed."),
)


def token_of(context: ActionContext) -> str | None:
    token = context.input.get("token") or context.secrets.get("token")
    return str(token) if token else None


def publish(context: ActionContext, remote: Remote) -> None:
    """Commit the source folder and push it to ``remote`` as its first commit."""
    given = context.input
    branch = str(given.get("defaultBranch") or "main")
    source = safe_child_path(context.workspace, given.get("sourcePath") or ".", what="sourcePath")
    if not source.is_dir():
        raise ActionError(
            f"sourcePath {given.get('sourcePath')!r} is not a folder of the workspace"
        )
    context.output("remoteUrl", remote.shown)
    context.output("repoContentsUrl", remote.shown)
    context.output("defaultBranch", branch)
    if context.dry_run:
        context.log(
            f"Dry run: would commit {given.get('sourcePath') or 'the workspace'} and push "
            f"branch {branch} to {remote.shown}"
        )
        return
    if (source / ".git").exists():
        raise ActionError(
            "the folder to publish is a git repository already",
            "publish a folder without .git (see fs:delete)",
        )
    token = token_of(context)
    claim(remote, branch, token)
    author = Author(
        str(given.get("gitAuthorName") or DEFAULT_AUTHOR.name),
        str(given.get("gitAuthorEmail") or DEFAULT_AUTHOR.email),
    )
    run_git(["init", "--quiet", "-b", branch], cwd=source)
    write_record(context, source, str(given.get("sourcePath") or "."))
    run_git(["add", "--all"], cwd=source)
    message = str(given.get("gitCommitMessage") or "Initial commit")
    run_git(["commit", "--quiet", "--allow-empty", "-m", message], cwd=source, author=author)
    # No --force: git itself refuses to replace history if someone pushed meanwhile.
    run_git(["push", "--quiet", remote.url, f"HEAD:refs/heads/{branch}"], cwd=source, token=token)
    commit = run_git(["rev-parse", "HEAD"], cwd=source).strip()
    context.output("commitHash", commit)
    context.log(f"Pushed {commit[:12]} to {remote.shown} ({branch})")


class PublishGit(BuiltinAction):
    id = "publish:git"
    description = (
        "Creates a git repository from the workspace (or `sourcePath`) with one commit and "
        "pushes it to `repoUrl`: a `file://` bare repository (created when it is under "
        "`scaffolder.repositories_root`) or an `https://` remote on an allowed host, with a "
        "token. A repository that already has commits is never written to. A dry run pushes "
        "nothing."
    )
    input_schema = {
        **obj(
            ["repoUrl"],
            repoUrl=string("file:///srv/repos/x.git or https://host/org/x.git."),
            description=string("Not used by git; accepted for Backstage templates."),
            **COMMIT_INPUTS,
        ),
        "additionalProperties": False,
    }
    output_schema = PUBLISH_OUTPUT

    def handler(self, context: ActionContext) -> None:
        publish(context, parse_remote(str(context.input["repoUrl"]), context.runtime.settings))


class PublishGithub(BuiltinAction):
    id = "publish:github"
    description = (
        "Backstage's publish to GitHub, for Backstage templates: pushes the workspace over HTTPS "
        "with a token to the (existing, empty) repository `repoUrl` names "
        "(`github.com?owner=..&repo=..`). Repository settings (visibility, topics, protection) "
        "are accepted and not applied. A dry run skips it, as Backstage's does. Not tested "
        "against GitHub here."
    )
    input_schema = {
        **obj(
            ["repoUrl"],
            repoUrl=string("github.com?owner=<owner>&repo=<repo>"),
            description=string("The repository description (not applied)."),
            repoVisibility={"enum": ["private", "internal", "public"]},
            topics=strings("Repository topics (not applied)."),
            allowedHosts=strings("Hosts the form allowed (the server's own list applies)."),
            **COMMIT_INPUTS,
        ),
        "additionalProperties": True,  # Backstage's action takes dozens of repository settings
    }
    output_schema = PUBLISH_OUTPUT
    supports_dry_run = False

    def handler(self, context: ActionContext) -> None:
        publish(context, github_remote(context))


def github_remote(context: ActionContext) -> Remote:
    settings = context.runtime.settings
    try:
        parts = parse_repo_url(context.input["repoUrl"], settings.scaffolder.allowed_hosts)
    except FilterError as error:
        raise ActionError(str(error)) from None
    return parse_remote(f"https://{parts['host']}/{parts['owner']}/{parts['repo']}.git", settings)
