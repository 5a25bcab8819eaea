"""Deploys, rollbacks and promotions of a component's versions to its environments.

A deploy is refused — and the refusal recorded, as a ``refused`` deployment and an audit row —
when the environment is frozen, the version is unknown, the security gate blocked the commit,
the deploy file is invalid, or another deploy holds the environment. Otherwise it claims the
environment (``EnvironmentState.busy_with``, under a row lock on PostgreSQL and SQLite's
serialised writer) and is handed to :mod:`pavedroad.deploy.runner`.

Who may deploy where is the callers' business (``deployment.trigger`` on
``{environment, component}``): routes check their grant, the CLI its principal, the pipeline
step its run's. These functions take the ``actor`` to record, like every service.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from pavedroad.audit import service as audit
from pavedroad.config import EnvironmentSettings, Settings
from pavedroad.core.actors import Actor
from pavedroad.core.clock import as_utc
from pavedroad.core.db import upsert
from pavedroad.core.errors import ConflictError, InputError, NotFoundError, PavedroadError
from pavedroad.deploy.component_config import read_deploy_config
from pavedroad.deploy.models import Deployment, EnvironmentState
from pavedroad.deploy.versions import resolve_version
from pavedroad.pipelines.access import component_entity
from pavedroad.pipelines.repositories import repository_of_entity
from pavedroad.security.gate import describe_blocker, gate_of_commit

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

ACTIVE = ("queued", "deploying", "analysing")
FINISHED = ("succeeded", "failed", "rolled_back", "refused", "cancelled")
TRIGGERS = ("manual", "pipeline", "promotion", "automatic")
MAX_PAGE = 200


class DeployRefused(ConflictError):  # noqa: N818 - reads as what it is
    """The deploy was not started; the refused deployment is recorded (``deployment_id``)."""


def environment_settings(settings: Settings, name: str) -> EnvironmentSettings:
    """The environment ``name`` (``settings.deploy.environments``), or NotFoundError."""
    for environment in settings.deploy.environments:
        if environment.name == name:
            return environment
    known = ", ".join(e.name for e in settings.deploy.environments)
    raise NotFoundError(f"There is no environment {name!r} (environments: {known})")


def active_freeze(environment: EnvironmentSettings, now: datetime) -> tuple[datetime, str] | None:
    """``(until, reason)`` of the freeze window ``now`` falls in, or None."""
    for freeze in environment.freezes:
        if as_utc(freeze.start) <= now < as_utc(freeze.end):
            return as_utc(freeze.end), freeze.reason
    return None


def repository_of_component(session: Session, component_ref: str) -> str:
    """The repository a component deploys from (its source-location annotation)."""
    repository = repository_of_entity(component_entity(session, component_ref))
    if repository is None:
        raise InputError(
            f"{component_ref} names no repository: set its backstage.io/source-location "
            "annotation to the repository's URL (url:https://... or url:file:///...)"
        )
    return repository


def deploy(
    runtime: Runtime,
    *,
    component_ref: str,
    environment: str,
    version: str,
    actor: Actor,
    trigger: str = "manual",
    run_id: str | None = None,
    kind: str = "deploy",
    start: bool = True,
) -> Deployment:
    """Start deploying ``version`` (a tag, a branch or a commit) of the component; the queued
    deployment. Raises :class:`DeployRefused` (recorded) or NotFoundError (no such
    component or environment: nothing to record it against)."""
    ref = component_ref.lower()
    settings = runtime.settings
    env = environment_settings(settings, environment)
    with runtime.db.read_session() as session:
        repository = repository_of_component(session, ref)
    draft = _draft(ref, env, version, actor, trigger, run_id, kind)
    frozen = active_freeze(env, datetime.now(UTC))
    if frozen is not None:
        until, reason = frozen
        why = f" ({reason})" if reason else ""
        _refuse(runtime, draft, f"{env.name} is frozen until {until.isoformat()}{why}", actor)
    try:
        commit = resolve_version(settings, repository, version)
        config = read_deploy_config(settings, repository, commit)
    except PavedroadError as error:
        _refuse(runtime, draft, error.message, actor, details=error.details)
    draft.commit = commit
    draft.evidence["config"] = config
    with runtime.db.read_session() as session:
        decision = gate_of_commit(session, ref, commit)
    if decision is not None and decision.blocked:
        reasons = "; ".join(describe_blocker(r) for r in decision.reasons[:5])
        _refuse(
            runtime,
            draft,
            f"the security gate blocked commit {commit[:12]}: {reasons}",
            actor,
            details={"gate": {"blocked": True, "reasons": decision.reasons}},
        )
    draft.evidence["gate"] = (
        {"decision": "passed", "run_id": decision.run_id}
        if decision is not None
        else {"decision": "none", "note": f"the security gate never judged {commit[:12]}"}
    )
    deployment = _claim(runtime, draft, actor)
    if start:
        from pavedroad.deploy import runner

        runner.submit(runtime, deployment.id)
    return deployment


def _draft(
    ref: str,
    env: EnvironmentSettings,
    version: str,
    actor: Actor,
    trigger: str,
    run_id: str | None,
    kind: str,
) -> Deployment:
    return Deployment(
        id=str(uuid.uuid4()),
        component_ref=ref,
        environment=env.name,
        version=version,
        commit=None,
        kind=kind,
        trigger=trigger,
        triggered_by=actor.ref,
        run_id=run_id,
        target=env.target,
        status="queued",
        mode="enforce",
        evidence={},
        target_state={},
        created_at=datetime.now(UTC),
    )


def _refuse(
    runtime: Runtime,
    draft: Deployment,
    reason: str,
    actor: Actor,
    details: dict[str, Any] | None = None,
) -> NoReturn:
    """Record the refusal in its own transaction, then raise it."""
    with runtime.db.session() as session:
        _record_refusal(session, draft, reason, actor)
    raise DeployRefused(reason, deployment_id=draft.id, **(details or {}))


def _record_refusal(session: Session, draft: Deployment, reason: str, actor: Actor) -> None:
    draft.status = "refused"
    draft.error = reason
    draft.finished_at = datetime.now(UTC)
    session.add(draft)
    audit.record(
        session,
        actor=actor,
        event="deployment.refused",
        target=_target(draft),
        resource_type="deployment",
        result="failed",
        details={"deployment": draft.id, "version": draft.version, "reason": reason},
    )


def lock_environment(session: Session, component_ref: str, environment: str) -> EnvironmentState:
    """The environment's row, made if missing and locked for this transaction (FOR UPDATE on
    PostgreSQL; SQLite's writer already holds the database's write lock)."""
    upsert(
        session,
        EnvironmentState.__table__,
        {
            "component_ref": component_ref,
            "environment": environment,
            "updated_at": datetime.now(UTC),
        },
        keys=("component_ref", "environment"),
    )
    return session.scalars(
        select(EnvironmentState)
        .where(
            EnvironmentState.component_ref == component_ref,
            EnvironmentState.environment == environment,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _claim(runtime: Runtime, draft: Deployment, actor: Actor) -> Deployment:
    """Take the environment for ``draft`` in one short transaction, or refuse (recorded)."""
    with runtime.db.session() as session:
        state = lock_environment(session, draft.component_ref, draft.environment)
        holder = session.get(Deployment, state.busy_with) if state.busy_with else None
        if holder is not None and holder.status in ACTIVE:
            reason = (
                f"{draft.environment} is deploying {holder.id} ({holder.version}, "
                f"{holder.status}); try again when it ends"
            )
            _record_refusal(session, draft, reason, actor)
            refused = True
        else:
            refused = False
            draft.previous_id = state.current_id
            # Taken by a runner at once, or by a server within this (else failed by recovery).
            lease = runtime.settings.deploy.lease_seconds
            draft.lease_expires_at = datetime.now(UTC) + timedelta(seconds=lease)
            session.add(draft)
            state.busy_with = draft.id
            state.updated_at = datetime.now(UTC)
            audit.record(
                session,
                actor=actor,
                event="deployment.started",
                target=_target(draft),
                resource_type="deployment",
                details={
                    "deployment": draft.id,
                    "version": draft.version,
                    "commit": draft.commit,
                    "kind": draft.kind,
                    "trigger": draft.trigger,
                    "run_id": draft.run_id,
                },
            )
    if refused:
        raise DeployRefused(str(draft.error), deployment_id=draft.id)
    return draft


def rollback(
    runtime: Runtime,
    *,
    component_ref: str,
    environment: str,
    actor: Actor,
    to: str | None = None,
    start: bool = True,
) -> Deployment:
    """Go back to the last good version (or ``to``: a version or a deployment id that ran
    there before) on the same target; the rollback deployment."""
    ref = component_ref.lower()
    env = environment_settings(runtime.settings, environment)
    with runtime.db.read_session() as session:
        state = session.get(EnvironmentState, (ref, env.name))
        current = session.get(Deployment, state.current_id) if state and state.current_id else None
        wanted = _rollback_target(session, ref, env.name, state, current, to)
    draft = _draft(ref, env, wanted.version, actor, "manual", None, "rollback")
    draft.commit = wanted.commit
    draft.rollback_of = current.id if current is not None else None
    draft.evidence = {"to": wanted.id, "config": dict(wanted.evidence.get("config") or {})}
    frozen = active_freeze(env, datetime.now(UTC))
    if frozen is not None:
        # A rollback restores service; a freeze stops new changes, not repairs. Say so.
        draft.evidence["freeze"] = f"during the freeze until {frozen[0].isoformat()}"
    deployment = _claim(runtime, draft, actor)
    if start:
        from pavedroad.deploy import runner

        runner.submit(runtime, deployment.id)
    return deployment


def _rollback_target(
    session: Session,
    ref: str,
    environment: str,
    state: EnvironmentState | None,
    current: Deployment | None,
    to: str | None,
) -> Deployment:
    ran = select(Deployment).where(
        Deployment.component_ref == ref,
        Deployment.environment == environment,
        Deployment.status == "succeeded",
    )
    if to:
        found = session.get(Deployment, to)
        if found is None or found.component_ref != ref or found.environment != environment:
            found = session.scalars(
                ran.where(Deployment.version == to).order_by(Deployment.created_at.desc()).limit(1)
            ).first()
        if found is None or found.status != "succeeded":
            raise NotFoundError(
                f"{to!r} never ran successfully in {environment} of {ref}",
                hint="`pavedroad deployments list` shows what ran there",
            )
        return found
    if state is not None and state.last_good_id and state.last_good_id != state.current_id:
        good = session.get(Deployment, state.last_good_id)
        if good is not None:
            return good
    earlier = session.scalars(
        ran.where(Deployment.id != (current.id if current else ""))
        .order_by(Deployment.created_at.desc())
        .limit(1)
    ).first()
    if earlier is None:
        raise NotFoundError(f"Nothing ran in {environment} of {ref} before: no rollback to make")
    return earlier


def redeploy(
    runtime: Runtime, *, component_ref: str, environment: str, deployment_id: str, actor: Actor
) -> Deployment:
    """Deploy again the commit of an earlier deployment (of any environment of the component)."""
    with runtime.db.read_session() as session:
        earlier = session.get(Deployment, deployment_id)
    if earlier is None or earlier.component_ref != component_ref.lower() or not earlier.commit:
        raise NotFoundError(f"There is no deployment {deployment_id} of {component_ref}")
    return deploy(
        runtime,
        component_ref=component_ref,
        environment=environment,
        version=earlier.commit,
        actor=actor,
        kind="redeploy",
    )


def promote(
    runtime: Runtime,
    *,
    component_ref: str,
    from_environment: str,
    to_environment: str,
    actor: Actor,
) -> Deployment:
    """Deploy to ``to_environment`` the commit that runs (and passed) in ``from_environment``."""
    ref = component_ref.lower()
    environment_settings(runtime.settings, from_environment)
    with runtime.db.read_session() as session:
        state = session.get(EnvironmentState, (ref, from_environment))
        current = session.get(Deployment, state.current_id) if state and state.current_id else None
    if current is None or current.commit is None:
        raise NotFoundError(f"Nothing runs in {from_environment} of {ref} to promote")
    if current.status != "succeeded":
        raise DeployRefused(
            f"{from_environment} runs {current.version}, whose deploy {current.status}: "
            "promote a version that succeeded"
        )
    deployment = deploy(
        runtime,
        component_ref=ref,
        environment=to_environment,
        version=current.commit,
        actor=actor,
        trigger="promotion",
        start=False,
    )
    with runtime.db.session() as session:
        row = session.get(Deployment, deployment.id)
        assert row is not None
        row.version = current.version  # people call it by the name it had before
        row.evidence = {**row.evidence, "promoted_from": current.id}
        deployment = row
    from pavedroad.deploy import runner

    runner.submit(runtime, deployment.id)
    return deployment


def get_deployment(session: Session, deployment_id: str) -> Deployment:
    found = session.get(Deployment, deployment_id)
    if found is None:
        raise NotFoundError(f"There is no deployment {deployment_id}")
    return found


def environments_of(
    session: Session, settings: Settings, component_ref: str
) -> list[dict[str, Any]]:
    """Each configured environment of the component, in promotion order, with what runs there."""
    ref = component_ref.lower()
    states = {
        s.environment: s
        for s in session.scalars(
            select(EnvironmentState).where(EnvironmentState.component_ref == ref)
        )
    }
    ids = {i for s in states.values() for i in (s.current_id, s.busy_with) if i}
    rows = (
        {d.id: d for d in session.scalars(select(Deployment).where(Deployment.id.in_(ids)))}
        if ids
        else {}
    )
    answer = []
    for env in settings.deploy.environments:
        state = states.get(env.name)
        current = rows.get(state.current_id or "") if state else None
        busy = rows.get(state.busy_with or "") if state else None
        frozen = active_freeze(env, datetime.now(UTC))
        answer.append(
            {
                "name": env.name,
                "target": env.target,
                "current": deployment_json(current) if current is not None else None,
                "healthy": state.healthy if state else None,
                "deploying": deployment_json(busy) if busy and busy.status in ACTIVE else None,
                "lastGoodId": state.last_good_id if state else None,
                "frozenUntil": frozen[0].isoformat() if frozen else None,
                "freezeReason": frozen[1] if frozen else None,
            }
        )
    return answer


def history(
    session: Session,
    component_ref: str,
    environment: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Deployment]:
    """The component's deployments, newest first."""
    statement = select(Deployment).where(Deployment.component_ref == component_ref.lower())
    if environment:
        statement = statement.where(Deployment.environment == environment)
    statement = (
        statement.order_by(Deployment.created_at.desc(), Deployment.id)
        .limit(min(limit, MAX_PAGE))
        .offset(offset)
    )
    return list(session.scalars(statement))


def deployment_json(deployment: Deployment, *, full: bool = False) -> dict[str, Any]:
    """A deployment as the API shows it (``full``: with its evidence and target state)."""
    data: dict[str, Any] = {
        "id": deployment.id,
        "component": deployment.component_ref,
        "environment": deployment.environment,
        "version": deployment.version,
        "commit": deployment.commit,
        "artifact": deployment.artifact,
        "kind": deployment.kind,
        "trigger": deployment.trigger,
        "triggeredBy": deployment.triggered_by,
        "runId": deployment.run_id,
        "rollbackOf": deployment.rollback_of,
        "previousId": deployment.previous_id,
        "target": deployment.target,
        "status": deployment.status,
        "mode": deployment.mode,
        "error": deployment.error,
        "createdAt": _iso(deployment.created_at),
        "startedAt": _iso(deployment.started_at),
        "deployedAt": _iso(deployment.deployed_at),
        "finishedAt": _iso(deployment.finished_at),
    }
    if full:
        data["evidence"] = deployment.evidence
        data["targetState"] = deployment.target_state
    return data


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment is not None else None


def _target(deployment: Deployment) -> str:
    return f"{deployment.component_ref}@{deployment.environment}"
