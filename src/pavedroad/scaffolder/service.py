"""Starting a template run: the template read from the catalog, the parameters completed with
their defaults and checked before anything runs, the task row written, the runner told."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from pavedroad.catalog import queries
from pavedroad.core.actors import Actor
from pavedroad.core.errors import NotAllowedError
from pavedroad.identity.schemas import Principal
from pavedroad.scaffolder import tasks
from pavedroad.scaffolder.hooks import TemplateUser
from pavedroad.scaffolder.permissions import MANAGE_TASKS
from pavedroad.scaffolder.runner import Run, TaskRunner

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime
    from pavedroad.scaffolder.engine import TemplateSource


def template_user(runtime: Runtime, user_ref: str) -> TemplateUser:
    """The running user as templates see them (``user.entity`` is their User entity)."""
    with runtime.db.read_session() as session:
        row = queries.entity_row(session, user_ref.lower())
    return TemplateUser(user_ref, orjson.loads(row[2]) if row is not None else None)


def prepare(
    runtime: Runtime, template_ref: str, values: Mapping[str, Any]
) -> tuple[TemplateSource, dict[str, Any], dict[str, str]]:
    """The template, its parameters with defaults, and the secret values split off; raises
    :class:`tasks.InvalidParameters` listing every problem when they do not validate."""
    from pavedroad.scaffolder import engine

    with runtime.db.read_session() as session:
        source = engine.load_template(runtime, session, template_ref)
    parameters, secrets = checked_values(source, values)
    return source, parameters, secrets


def checked_values(
    source: TemplateSource, values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``values`` completed with defaults and validated; the secrets split off."""
    from pavedroad.scaffolder import engine

    completed = engine.apply_defaults(source.entity, dict(values))
    problems = engine.validate_parameters(source.entity, completed)
    if problems:
        raise tasks.InvalidParameters(problems)
    parameters, secrets = engine.split_secrets(source.entity, completed)
    return parameters, {key: str(value) for key, value in secrets.items()}


def start_run(
    runtime: Runtime,
    runner: TaskRunner,
    *,
    template_ref: str | None = None,
    source: TemplateSource | None = None,
    values: Mapping[str, Any],
    secrets: Mapping[str, str] | None = None,
    actor: Actor,
    dry_run: bool = False,
    wait: bool = False,
) -> str:
    """Create the task and hand it to ``runner`` (``wait``: run it in this thread); its id.

    The template is the registered ``template_ref``, or ``source`` read from a folder.
    """
    from pavedroad.scaffolder import engine

    if source is None:
        source, parameters, form_secrets = prepare(runtime, template_ref or "", values)
    else:
        parameters, form_secrets = checked_values(source, values)
    all_secrets = {**form_secrets, **(secrets or {})}
    with runtime.db.session() as session:
        task = tasks.create_task(
            session,
            template_ref=source.ref,
            template_version=source.version,
            parameters=parameters,
            secret_fields=engine.secret_fields(source.entity),
            dry_run=dry_run,
            actor=actor,
        )
        task_id = task.id
    run = Run(
        task_id=task_id,
        source=source,
        values=parameters,
        secrets=all_secrets,
        user=template_user(runtime, actor.ref),
        actor=actor,
        dry_run=dry_run,
    )
    if wait:
        runner.run(run)
    else:
        runner.submit(run)
    return task_id


def cancel_run(runtime: Runtime, task_id: str, principal: Principal) -> str:
    """Ask a run to stop, for who started it or an administrator; its status now."""
    manage = runtime.permissions.decide(principal, MANAGE_TASKS)
    with runtime.db.session() as session:
        task = tasks.get_task(session, task_id)
        if task.created_by != principal.ref and not manage.allowed:
            raise NotAllowedError(
                f"Only who started a run, or an administrator, may cancel it. {manage.explanation}"
            )
        return tasks.request_cancel(session, task_id, actor=principal.actor).status
