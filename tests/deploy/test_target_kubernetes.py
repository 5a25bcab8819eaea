"""The kubernetes target at the official client's request layer: no cluster runs here, so the
ApiClient's urllib3 pool is replaced by one that records each request and answers as the API
server would. What is checked: the requests (server-side apply PATCHes, their bodies, the
rollout polling) and how answers are handled — not a cluster's behaviour."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import pytest
import urllib3
from kubernetes import client as k8s

from pavedroad.deploy.hooks import DeploymentTarget, TargetError
from pavedroad.deploy.targets.kubernetes import KubernetesConfig, KubernetesTarget
from tests.deploy.target_support import context

DEPLOYMENT_PATH = "/apis/apps/v1/namespaces/shop/deployments/myservice"
SERVICE_PATH = "/api/v1/namespaces/shop/services/myservice"
STATUS_PATH = DEPLOYMENT_PATH + "/status"

Answer = Callable[[str, str, Any], tuple[int, dict[str, Any]]]


class RecordingPool:
    """Stands in for urllib3's PoolManager under the client's RESTClientObject."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []

    def request(self, method: str, url: str, body: Any = None, headers: Any = None, **_: Any):
        parsed = urlparse(url)
        decoded = json.loads(body) if body else None
        self.requests.append(
            {
                "method": method,
                "path": parsed.path,
                "query": parsed.query,
                "headers": dict(headers or {}),
                "body": decoded,
            }
        )
        status, payload = self.answer(method, parsed.path, decoded)
        return urllib3.HTTPResponse(
            body=io.BytesIO(json.dumps(payload).encode()),
            status=status,
            reason="OK" if status < 400 else "Error",
            headers={"Content-Type": "application/json"},
            preload_content=False,
        )

    def clear(self) -> None:
        """The client closes its pool when it is done."""


def rolled_out(image: str, *, ready: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "myservice", "namespace": "shop", "generation": 3},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "myservice"}},
            "template": {"spec": {"containers": [{"name": "myservice", "image": image}]}},
        },
        "status": {
            "observedGeneration": 3,
            "replicas": 2,
            "updatedReplicas": ready,
            "availableReplicas": ready,
            "readyReplicas": ready,
        },
    }


def cluster(image_ready: Callable[[], str], *, ready_after: int = 0) -> Answer:
    """An API server that accepts applies and reports the rollout done after some polls."""
    polls = {"count": 0}

    def answer(method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
        if method == "PATCH":
            return 200, body
        if method == "GET" and path == STATUS_PATH:
            polls["count"] += 1
            ready = 2 if polls["count"] > ready_after else 0
            return 200, rolled_out(image_ready(), ready=ready)
        return 404, {"kind": "Status", "code": 404}

    return answer


def target_with(pool: RecordingPool, poll_seconds: float = 0.05) -> KubernetesTarget:
    def factory(config: KubernetesConfig) -> k8s.ApiClient:
        api = k8s.ApiClient(k8s.Configuration(host="https://cluster.test"))
        api.rest_client.pool_manager = pool
        return api

    return KubernetesTarget(api_client_factory=factory, poll_seconds=poll_seconds)


def settings(**extra: Any) -> dict[str, Any]:
    return {
        "kubernetes": {
            "image": "registry.example/myservice",
            "namespace": "shop",
            "replicas": 2,
            "port": 8000,
            "rollout_seconds": 10,
            **extra,
        },
        "process": {"health": "/ready"},
    }


def deploy_context(tmp_path, version: str, **kwargs: Any):
    return context(
        tmp_path,
        deployment_id=f"dep-{version}",
        version=version,
        workspace=None,
        config=kwargs.pop("config", settings()),
        component_ref="component:default/myservice",
        environment="production",
        **kwargs,
    )


class TestDeploy:
    def test_applies_a_deployment_and_a_service_then_waits_for_the_rollout(self, tmp_path):
        pool = RecordingPool(cluster(lambda: "registry.example/myservice:1.4.0"))
        result = target_with(pool).deploy(deploy_context(tmp_path, "1.4.0"))
        methods = [(r["method"], r["path"]) for r in pool.requests]
        assert methods == [
            ("PATCH", DEPLOYMENT_PATH),
            ("PATCH", SERVICE_PATH),
            ("GET", STATUS_PATH),
        ]
        apply = pool.requests[0]
        assert apply["headers"]["Content-Type"] == "application/apply-patch+yaml"
        assert "fieldManager=pavedroad" in apply["query"]
        assert "force=true" in apply["query"]
        deployment = apply["body"]
        assert deployment["metadata"]["annotations"] == {"pavedroad.dev/deployment": "dep-1.4.0"}
        assert deployment["spec"]["replicas"] == 2
        assert deployment["spec"]["strategy"]["rollingUpdate"] == {
            "maxUnavailable": 0,
            "maxSurge": 1,
        }
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == "registry.example/myservice:1.4.0"
        assert container["ports"] == [{"name": "http", "containerPort": 8000}]
        assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
        assert {"name": "PORT", "value": "8000"} in container["env"]
        service = pool.requests[1]["body"]
        assert service["spec"]["selector"] == {"app.kubernetes.io/name": "myservice"}
        assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
        assert result.state["image"] == "registry.example/myservice:1.4.0"
        assert result.state["manifests"] == [deployment, service]
        assert result.url == "http://myservice.shop.svc.cluster.local:80"

    def test_a_rollout_that_never_finishes_is_an_error_that_says_the_old_pods_serve(self, tmp_path):
        pool = RecordingPool(cluster(lambda: "registry.example/myservice:2.0.0", ready_after=10**6))
        with pytest.raises(TargetError, match=r"did not finish within 0.3 s .* old pods serving"):
            target_with(pool).deploy(
                deploy_context(tmp_path, "2.0.0", config=settings(rollout_seconds=0.3))
            )

    def test_a_refused_apply_says_what_the_api_answered(self, tmp_path):
        pool = RecordingPool(lambda method, path, body: (403, {"kind": "Status", "code": 403}))
        with pytest.raises(TargetError, match=r"cannot apply the Deployment shop/myservice: .*403"):
            target_with(pool).deploy(deploy_context(tmp_path, "1.4.0"))
        assert len(pool.requests) == 1

    def test_an_unreachable_cluster_is_a_clear_error(self, tmp_path):
        def refuse(method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
            raise urllib3.exceptions.MaxRetryError(None, path, "connection refused")  # type: ignore[arg-type]

        with pytest.raises(TargetError, match=r"the cluster is unreachable"):
            target_with(RecordingPool(refuse)).deploy(deploy_context(tmp_path, "1.4.0"))

    def test_without_an_image_it_says_what_to_write(self, tmp_path):
        pool = RecordingPool(cluster(lambda: "x"))
        with pytest.raises(TargetError, match=r"needs `kubernetes.image`"):
            target_with(pool).deploy(deploy_context(tmp_path, "1.4.0", config={}))
        assert pool.requests == []


class TestRollbackAndStatus:
    def test_rollback_applies_the_previous_manifests_again(self, tmp_path):
        live = {"image": "registry.example/myservice:1.4.0"}
        pool = RecordingPool(cluster(lambda: live["image"]))
        target = target_with(pool)
        good = target.deploy(deploy_context(tmp_path, "1.4.0"))
        live["image"] = "registry.example/myservice:1.5.0"
        bad = target.deploy(deploy_context(tmp_path, "1.5.0", previous=good.state))
        pool.requests.clear()
        live["image"] = "registry.example/myservice:1.4.0"
        back = target.rollback(deploy_context(tmp_path, "1.4.0", previous=bad.state), to=good.state)
        applied = [r["body"] for r in pool.requests if r["method"] == "PATCH"]
        assert applied == good.state["manifests"]
        assert back.state["image"] == "registry.example/myservice:1.4.0"
        assert target.status(back.state)
        assert not target.status(bad.state)

    def test_status_is_false_when_the_api_cannot_be_reached(self, tmp_path):
        pool = RecordingPool(cluster(lambda: "registry.example/myservice:1.4.0"))
        state = target_with(pool).deploy(deploy_context(tmp_path, "1.4.0")).state
        down = RecordingPool(lambda method, path, body: (503, {"kind": "Status"}))
        assert not target_with(down).status(state)


def test_the_kubernetes_target_is_a_deployment_target():
    assert isinstance(KubernetesTarget(), DeploymentTarget)
    assert KubernetesTarget().name == "kubernetes"
