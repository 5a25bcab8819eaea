"""Webhook deliveries from GitHub, GitLab and Gitea: checked, de-duplicated, turned into runs.

The signature is the sender's authentication: an HMAC-SHA256 of the raw body with the shared
secret (GitHub ``X-Hub-Signature-256: sha256=<hex>``, Gitea ``X-Gitea-Signature: <hex>``) or,
for GitLab, the secret itself in ``X-Gitlab-Token``. Each delivery's id is kept for a few days
and a second delivery with the same id is refused, so a captured request cannot be replayed.
Refused deliveries are audited (``pipeline.webhook.refused``: provider, reason, client
address; never the secret or the body), and so are accepted ones (``pipeline.webhook.received``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from pavedroad.audit import service as audit
from pavedroad.core.actors import Actor
from pavedroad.core.errors import (
    AuthenticationError,
    ConflictError,
    InputError,
    NotFoundError,
    PavedroadError,
    ServiceUnavailableError,
)
from pavedroad.pipelines import service
from pavedroad.pipelines.models import WatchedRepository, WebhookDelivery
from pavedroad.pipelines.repositories import component_for_repository, normalise_repository
from pavedroad.pipelines.webhook_events import PROVIDERS, Ignored, RepositoryEvent, parse_event

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024
DELIVERY_RETENTION = timedelta(days=7)
SECRET_SETTING = "PAVEDROAD_PIPELINES__WEBHOOK_SECRET"
RESOURCE_TYPE = "pipeline-webhook"
# Which header names each provider's event type and delivery id (first present wins).
EVENT_HEADERS = {"github": "x-github-event", "gitea": "x-gitea-event", "gitlab": "x-gitlab-event"}
DELIVERY_HEADERS = {
    "github": ("x-github-delivery",),
    "gitea": ("x-gitea-delivery",),
    "gitlab": ("idempotency-key", "x-gitlab-event-uuid"),
}


class PayloadTooLargeError(PavedroadError):
    status_code: ClassVar[int] = 413
    name: ClassVar[str] = "PayloadTooLargeError"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One webhook request as it arrived: the provider, its headers (lower-case) and raw body."""

    provider: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def kind(self) -> str:
        return self.headers.get(EVENT_HEADERS[self.provider], "").strip()

    @property
    def delivery_id(self) -> str | None:
        for header in DELIVERY_HEADERS[self.provider]:
            value = self.headers.get(header, "").strip()
            if value:
                return value[:200]
        return None


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    """What the sender is answered: a run started (202) or the delivery ignored (200)."""

    status_code: int
    body: dict[str, Any] = field(default_factory=dict)


def actor_of(provider: str) -> Actor:
    return Actor.system(f"webhook:{provider}")


def signature_problem(delivery: Delivery, secret: str) -> str | None:
    """Why the delivery's signature does not hold, or None when it does."""
    headers, key = delivery.headers, secret.encode()
    if delivery.provider == "gitlab":
        token = headers.get("x-gitlab-token")
        if not token:
            return "no X-Gitlab-Token header"
        return None if hmac.compare_digest(token.encode(), key) else "wrong X-Gitlab-Token"
    expected = hmac.new(key, delivery.body, hashlib.sha256).hexdigest()
    if delivery.provider == "github":
        given = headers.get("x-hub-signature-256")
        if not given:
            return "no X-Hub-Signature-256 header"
        scheme, _, digest = given.partition("=")
        if scheme != "sha256":
            return "X-Hub-Signature-256 is not 'sha256=<hex>'"
    else:
        digest = headers.get("x-gitea-signature", "")
        if not digest:
            return "no X-Gitea-Signature header"
    return None if hmac.compare_digest(digest.strip().lower(), expected) else "bad signature"


def configured_secret(runtime: Runtime, provider: str) -> str:
    """The webhook secret; 503 saying how to set one when there is none (webhooks are off)."""
    secret = runtime.settings.pipelines.webhook_secret.get_secret_value()
    if not secret:
        raise ServiceUnavailableError(
            "Webhooks are off: no secret is configured. Set the same secret here "
            f"({SECRET_SETTING}, or pipelines.webhook_secret in the settings file) and in the "
            f"{provider} webhook's settings."
        )
    return secret


def receive_webhook(runtime: Runtime, delivery: Delivery) -> WebhookOutcome:
    """Check ``delivery`` and start the run it asks for; raises the refusal otherwise."""
    if delivery.provider not in PROVIDERS:
        raise NotFoundError(f"Unknown webhook provider {delivery.provider!r}")
    secret = configured_secret(runtime, delivery.provider)
    if len(delivery.body) > MAX_BODY_BYTES:
        raise refuse(runtime, delivery, f"the body is over {MAX_BODY_BYTES} bytes", 413)
    problem = signature_problem(delivery, secret)
    if problem is not None:
        raise refuse(runtime, delivery, problem, 401)
    delivery_id = delivery.delivery_id
    if delivery_id is None:
        headers = " or ".join(h.title() for h in DELIVERY_HEADERS[delivery.provider])
        reason = f"no delivery id ({headers}): without one a replay cannot be told apart"
        raise refuse(runtime, delivery, reason, 400)
    key = f"{delivery.provider}:{delivery_id}"
    claim_delivery(runtime, delivery, key)
    try:
        outcome = _handle(runtime, delivery)
    except BaseException:
        release_delivery(runtime, key)
        raise
    return outcome


def _handle(runtime: Runtime, delivery: Delivery) -> WebhookOutcome:
    try:
        payload = orjson.loads(delivery.body)
    except orjson.JSONDecodeError as error:
        raise InputError(f"The {delivery.provider} webhook body is not JSON: {error}") from None
    event = parse_event(delivery.provider, delivery.kind or "(no event header)", payload)
    if isinstance(event, Ignored):
        _record_received(runtime, delivery, {"ignored": event.reason})
        return WebhookOutcome(200, {"ignored": event.reason})
    repository, component_ref = _target(runtime, event)
    run = service.start_run(
        runtime,
        repository=repository,
        trigger=event.event,
        actor=actor_of(delivery.provider),
        branch=event.branch,
        commit=event.commit,
        component_ref=component_ref,
        changed_paths=event.changed_paths,
        event=event.event,
    )
    _record_received(
        runtime,
        delivery,
        {"repository": repository, "branch": event.branch, "commit": event.commit, "run": run.id},
    )
    base = runtime.settings.resolved_base_url.rstrip("/")
    body = {
        "run": {"id": run.id, "number": run.number, "status": run.status},
        "component": component_ref,
        "links": {
            "self": f"/api/pipelines/v1/runs/{run.id}",
            "page": f"{base}/pipelines/runs/{run.id}",
        },
    }
    return WebhookOutcome(202, body)


def _target(runtime: Runtime, event: RepositoryEvent) -> tuple[str, str | None]:
    """The repository a run is made for and its component: the catalog component whose
    source location is one of the event's URLs, else a watched repository (which may name no
    component). Repositories that are neither are refused: anyone can point a webhook here."""
    with runtime.db.read_session() as session:
        for url in event.repository_urls:
            component = component_for_repository(session, url)
            if component is not None:
                return normalise_repository(url), component
        for url in event.repository_urls:
            watched = session.get(WatchedRepository, normalise_repository(url))
            if watched is not None:
                return watched.url, watched.component_ref
    raise NotFoundError(
        f"No catalog component has {event.repository_urls[0]} as its repository, and it is "
        "not watched. Set the component's backstage.io/source-location annotation to it, or "
        "run 'pavedroad pipeline watch URL'.",
        repository=event.repository_urls[0],
    )


def claim_delivery(runtime: Runtime, delivery: Delivery, key: str) -> None:
    """Remember the delivery id; a second delivery with it is refused (409) and audited."""
    try:
        with runtime.db.session() as session:
            seen = session.get(WebhookDelivery, key) is not None
            if not seen:
                session.add(WebhookDelivery(id=key, received_at=datetime.now(UTC)))
                session.flush()
    except IntegrityError:  # the same delivery arrived twice at once
        seen = True
    if seen:
        raise refuse(runtime, delivery, f"delivery {key} was already received (a replay)", 409)


def release_delivery(runtime: Runtime, key: str) -> None:
    """Forget a delivery that could not be processed, so that its redelivery is accepted."""
    with runtime.db.session() as session:
        session.execute(delete(WebhookDelivery).where(WebhookDelivery.id == key))


def refuse(runtime: Runtime, delivery: Delivery, reason: str, status: int) -> PavedroadError:
    """Audit a refused delivery (in its own transaction) and give the error to answer with."""
    details = {
        "provider": delivery.provider,
        "reason": reason,
        "event": delivery.kind[:100],
        "delivery": delivery.delivery_id,
    }
    with runtime.db.session() as session:
        audit.record(
            session,
            actor=actor_of(delivery.provider),
            event="pipeline.webhook.refused",
            target=f"webhook:{delivery.provider}",
            resource_type=RESOURCE_TYPE,
            result="denied",
            details=details,
        )
    log.warning("webhook refused", extra=details)
    message = f"Webhook refused: {reason}."
    errors: dict[int, type[PavedroadError]] = {
        400: InputError,
        401: AuthenticationError,
        409: ConflictError,
        413: PayloadTooLargeError,
    }
    if status == 401:
        message += f" The {delivery.provider} webhook's secret must be the one in {SECRET_SETTING}."
    return errors[status](message)


def _record_received(runtime: Runtime, delivery: Delivery, details: dict[str, Any]) -> None:
    with runtime.db.session() as session:
        audit.record(
            session,
            actor=actor_of(delivery.provider),
            event="pipeline.webhook.received",
            target=f"webhook:{delivery.provider}",
            resource_type=RESOURCE_TYPE,
            details={
                "provider": delivery.provider,
                "event": delivery.kind[:100],
                "delivery": delivery.delivery_id,
                **details,
            },
        )


def prune_webhook_deliveries(runtime: Runtime, *, keep: timedelta = DELIVERY_RETENTION) -> int:
    """Forget delivery ids older than ``keep`` (senders stop retrying long before); how many."""
    cutoff = datetime.now(UTC) - keep
    with runtime.db.session() as session:
        old = session.scalars(
            select(WebhookDelivery.id).where(WebhookDelivery.received_at < cutoff)
        ).all()
        if old:
            session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(old)))
    return len(old)
