"""Telling the owners a deploy failed or was rolled back: a Slack-compatible JSON message
(``text`` plus ``blocks``) to each of ``deploy.notify_urls``, with the component, environment,
version, what happened and a link to the deployment; sent on a thread of its own with the
pipelines' delivery (a short timeout per URL, failures logged, never raised)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import httpx

from pavedroad.deploy.models import Deployment
from pavedroad.pipelines.notifications import TIMEOUT_SECONDS, Notice, _post

if TYPE_CHECKING:
    from pavedroad.runtime import Runtime

log = logging.getLogger(__name__)
NOTIFIED = ("failed", "rolled_back")


def notify_deployment(runtime: Runtime, deployment_id: str) -> threading.Thread | None:
    """Send the notices of a failed or rolled-back deployment in the background."""
    if not runtime.settings.deploy.notify_urls:
        return None
    thread = threading.Thread(
        target=send_deployment_notices,
        args=(runtime, deployment_id),
        name=f"deploy-notify-{deployment_id[:8]}",
        daemon=True,
    )
    thread.start()
    return thread


def send_deployment_notices(runtime: Runtime, deployment_id: str) -> list[Notice]:
    try:
        message = deployment_message(runtime, deployment_id)
    except Exception:
        log.exception("could not build a deployment notice", extra={"deployment": deployment_id})
        return []
    if message is None:
        return []
    with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
        return [
            _post(client, url, message, deployment_id)
            for url in runtime.settings.deploy.notify_urls
        ]


def deployment_message(runtime: Runtime, deployment_id: str) -> dict[str, Any] | None:
    """The message of a failed or rolled-back deployment; None for any other."""
    with runtime.db.read_session() as session:
        deployment = session.get(Deployment, deployment_id)
    if deployment is None or deployment.status not in NOTIFIED:
        return None
    base = runtime.settings.resolved_base_url.rstrip("/")
    link = f"{base}/api/deploy/v1/deployments/{deployment.id}"
    verb = "was rolled back" if deployment.status == "rolled_back" else "failed"
    headline = (
        f"Deploy of {deployment.component_ref} {deployment.version} to "
        f"{deployment.environment} {verb}"
    )
    facts = [
        ("Component", deployment.component_ref),
        ("Environment", deployment.environment),
        ("Version", deployment.version),
        ("Commit", (deployment.commit or "")[:12]),
        ("Triggered by", deployment.triggered_by),
        ("Target", deployment.target),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*\n<{link}|Open>"}},
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in facts],
        },
    ]
    if deployment.error:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": deployment.error[:2900]}}
        )
    return {"text": f"{headline} — {link}", "blocks": blocks}
