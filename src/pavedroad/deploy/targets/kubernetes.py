"""The ``kubernetes`` target: renders a Deployment and a Service for the component and applies
them with the official ``kubernetes`` client (server-side apply, field manager ``pavedroad``),
then waits for the rollout. The Deployment rolls with ``maxUnavailable: 0`` and a readiness
probe on the health path, so Kubernetes keeps the old pods until the new ones are ready. A
rollback applies the previous deploy's manifests again.

Tested at the client's request layer only (recorded requests; no cluster runs in the tests):
the requests, their bodies and the handling of the API's answers are checked, not a cluster's
behaviour. docs/deployments.md says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from urllib3.exceptions import HTTPError as TransportError

from pavedroad.deploy.hooks import TargetContext, TargetError, TargetResult

if TYPE_CHECKING:  # the client takes ~0.2 s to import: only when a deploy uses it
    from kubernetes import client as k8s

FIELD_MANAGER = "pavedroad"
APPLY = "application/apply-patch+yaml"
POLL_SECONDS = 2.0

ApiClientFactory = Callable[["KubernetesConfig"], "k8s.ApiClient"]


@dataclass(frozen=True, slots=True)
class KubernetesConfig:
    """``kubernetes:`` of ``.pavedroad/deploy.yaml`` (or the environment's settings)."""

    name: str
    image: str  # without a tag: the version is the tag; or with {version} in it
    namespace: str = "default"
    replicas: int = 2
    port: int = 8080
    service_port: int = 80
    health: str = "/healthz"
    env: dict[str, str] = field(default_factory=dict)
    rollout_seconds: float = 300.0  # 0: do not wait for the rollout
    kubeconfig: str | None = None  # None: in-cluster, else ~/.kube/config
    kube_context: str | None = None
    url: str | None = None

    @classmethod
    def of(cls, config: Mapping[str, Any], component_ref: str) -> KubernetesConfig:
        section = config.get("kubernetes")
        if not isinstance(section, Mapping) or not section.get("image"):
            raise TargetError(
                "the kubernetes target needs `kubernetes.image` (the image without its tag; "
                "the version is the tag) in .pavedroad/deploy.yaml"
            )
        process = config.get("process")
        health = section.get("health") or (
            process.get("health") if isinstance(process, Mapping) else None
        )
        default_name = component_ref.rsplit("/", 1)[-1].split(":")[-1]
        try:
            return cls(
                name=str(section.get("name") or default_name),
                image=str(section["image"]),
                namespace=str(section.get("namespace") or "default"),
                replicas=int(section.get("replicas", 2)),
                port=int(section.get("port", 8080)),
                service_port=int(section.get("service_port", 80)),
                health=str(health or "/healthz"),
                env={str(k): str(v) for k, v in (section.get("env") or {}).items()},
                rollout_seconds=float(section.get("rollout_seconds", 300)),
                kubeconfig=str(section["kubeconfig"]) if section.get("kubeconfig") else None,
                kube_context=str(section["context"]) if section.get("context") else None,
                url=str(section["url"]) if section.get("url") else None,
            )
        except (TypeError, ValueError, AttributeError) as error:
            raise TargetError(f"invalid `kubernetes:` settings: {error}") from error

    def image_of(self, version: str) -> str:
        return (
            self.image.replace("{version}", version)
            if "{version}" in self.image
            else (f"{self.image}:{version}")
        )


def render(config: KubernetesConfig, *, version: str, deployment_id: str) -> list[dict[str, Any]]:
    """The Deployment and Service of one version, as the API takes them."""
    selector = {"app.kubernetes.io/name": config.name}
    labels = {
        **selector,
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/managed-by": "pavedroad",
    }
    probe = {
        "httpGet": {"path": config.health, "port": "http"},
        "periodSeconds": 5,
        "failureThreshold": 3,
    }
    container = {
        "name": config.name,
        "image": config.image_of(version),
        "ports": [{"name": "http", "containerPort": config.port}],
        "env": [
            {"name": "PORT", "value": str(config.port)},
            {"name": "HOST", "value": "0.0.0.0"},
            *({"name": k, "value": v} for k, v in sorted(config.env.items())),
        ],
        "readinessProbe": probe,
        "livenessProbe": {**probe, "initialDelaySeconds": 10},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": config.name,
            "namespace": config.namespace,
            "labels": labels,
            "annotations": {"pavedroad.dev/deployment": deployment_id},
        },
        "spec": {
            "replicas": config.replicas,
            "selector": {"matchLabels": selector},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": config.name, "namespace": config.namespace, "labels": labels},
        "spec": {
            "selector": selector,
            "ports": [{"name": "http", "port": config.service_port, "targetPort": "http"}],
        },
    }
    return [deployment, service]


def default_api_client(config: KubernetesConfig) -> k8s.ApiClient:
    """A client from the kubeconfig the settings name, else in-cluster, else ~/.kube/config."""
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config

    configuration = k8s.Configuration()
    try:
        if config.kubeconfig or config.kube_context:
            k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=config.kubeconfig,
                context=config.kube_context,
                client_configuration=configuration,
            )
        else:
            try:
                k8s_config.load_incluster_config(  # type: ignore[no-untyped-call]
                    client_configuration=configuration
                )
            except k8s_config.ConfigException:
                k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                    client_configuration=configuration
                )
    except (k8s_config.ConfigException, OSError) as error:
        raise TargetError(f"no Kubernetes cluster to talk to: {error}") from None
    return k8s.ApiClient(configuration)


def _api_error(what: str, error: Exception) -> TargetError:
    from kubernetes.client.exceptions import ApiException

    if isinstance(error, ApiException):
        return TargetError(f"{what}: the API answered {error.status} {error.reason}")
    return TargetError(f"{what}: the cluster is unreachable ({error})")


class KubernetesTarget:
    """Applies a Deployment and Service with the official client (tested at its request
    layer only)."""

    name = "kubernetes"

    def __init__(
        self,
        api_client_factory: ApiClientFactory = default_api_client,
        *,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._api_client_factory = api_client_factory
        self._poll_seconds = poll_seconds

    def deploy(self, context: TargetContext) -> TargetResult:
        config = KubernetesConfig.of(context.config, context.component_ref)
        manifests = render(config, version=context.version, deployment_id=context.deployment_id)
        return self._apply(context, config, manifests, context.version)

    def rollback(self, context: TargetContext, to: Mapping[str, Any]) -> TargetResult:
        manifests = to.get("manifests")
        if not isinstance(manifests, list) or not manifests:
            raise TargetError("the earlier deploy recorded no manifests to apply again")
        config = KubernetesConfig.of({"kubernetes": to.get("config") or {}}, context.component_ref)
        version = str(to.get("version") or context.version)
        return self._apply(context, config, [dict(m) for m in manifests], version)

    def status(self, state: Mapping[str, Any]) -> bool:
        from kubernetes import client as k8s
        from kubernetes.client.exceptions import ApiException

        try:
            config = KubernetesConfig.of({"kubernetes": state.get("config") or {}}, "")
            with self._api_client_factory(config) as api:
                deployment = k8s.AppsV1Api(api).read_namespaced_deployment_status(
                    config.name, config.namespace
                )
        except (TargetError, ApiException, TransportError, OSError, ValueError):
            return False
        return _rolled_out(deployment, str(state.get("image")))

    def _apply(
        self,
        context: TargetContext,
        config: KubernetesConfig,
        manifests: list[dict[str, Any]],
        version: str,
    ) -> TargetResult:
        from kubernetes import client as k8s
        from kubernetes.client.exceptions import ApiException

        with self._api_client_factory(config) as api:
            apps, core = k8s.AppsV1Api(api), k8s.CoreV1Api(api)
            for manifest in manifests:
                kind, name = manifest["kind"], manifest["metadata"]["name"]
                namespace = manifest["metadata"].get("namespace", config.namespace)
                apply = (
                    apps.patch_namespaced_deployment
                    if kind == "Deployment"
                    else core.patch_namespaced_service
                )
                try:
                    apply(
                        name,
                        namespace,
                        manifest,
                        field_manager=FIELD_MANAGER,
                        force=True,
                        _content_type=APPLY,
                    )
                except (ApiException, TransportError, OSError) as error:
                    raise _api_error(f"cannot apply the {kind} {namespace}/{name}", error) from None
                context.log(f"applied {kind} {namespace}/{name}")
            image = config.image_of(version)
            if config.rollout_seconds > 0:
                self._wait(apps, config, image, context.log)
        state = {
            "namespace": config.namespace,
            "name": config.name,
            "image": image,
            "version": version,
            "manifests": manifests,
            "config": _config_state(config),
        }
        url = config.url or (
            f"http://{config.name}.{config.namespace}.svc.cluster.local:{config.service_port}"
        )
        return TargetResult(state=state, url=url, metrics_url=f"{url}/metrics")

    def _wait(
        self,
        apps: k8s.AppsV1Api,
        config: KubernetesConfig,
        image: str,
        log: Callable[[str], None],
    ) -> None:
        """Until every replica runs the new image and is ready; Kubernetes keeps the old ones
        meanwhile (maxUnavailable 0), so a rollout that never finishes leaves them serving."""
        from kubernetes.client.exceptions import ApiException

        deadline = time.monotonic() + config.rollout_seconds
        while True:
            try:
                deployment = apps.read_namespaced_deployment_status(config.name, config.namespace)
            except (ApiException, TransportError, OSError) as error:
                raise _api_error("cannot read the rollout's progress", error) from None
            if _rolled_out(deployment, image):
                log(f"rolled out: {config.replicas} replicas of {image} ready")
                return
            if time.monotonic() >= deadline:
                status = deployment.status
                raise TargetError(
                    f"the rollout of {image} did not finish within {config.rollout_seconds:g} s "
                    f"({getattr(status, 'updated_replicas', 0) or 0} updated, "
                    f"{getattr(status, 'available_replicas', 0) or 0} available of "
                    f"{config.replicas}); Kubernetes keeps the old pods serving"
                )
            time.sleep(self._poll_seconds)


def _rolled_out(deployment: Any, image: str) -> bool:
    spec, status, metadata = deployment.spec, deployment.status, deployment.metadata
    if spec is None or status is None or metadata is None:
        return False
    containers = spec.template.spec.containers if spec.template and spec.template.spec else []
    if not containers or containers[0].image != image:
        return False
    wanted = spec.replicas if spec.replicas is not None else 1
    return bool(
        (status.observed_generation or 0) >= (metadata.generation or 0)
        and (status.updated_replicas or 0) >= wanted
        and (status.available_replicas or 0) >= wanted
        and (status.replicas or 0) <= wanted
    )


def _config_state(config: KubernetesConfig) -> dict[str, Any]:
    return {
        "name": config.name,
        "image": config.image,
        "namespace": config.namespace,
        "replicas": config.replicas,
        "port": config.port,
        "service_port": config.service_port,
        "health": config.health,
        "env": config.env,
        "rollout_seconds": config.rollout_seconds,
        "kubeconfig": config.kubeconfig,
        "context": config.kube_context,
        "url": config.url,
    }
