"""deploy/kubernetes: every manifest is valid against the Kubernetes schemas (offline, strict), and the manifests
agree with each other and with the service: probes on real endpoints, one port everywhere, selectors that pick the
Deployment's pods, the container hardening, and resources and a grace period that fit the settings it runs with.
"""

from __future__ import annotations

import copy
import io
import os
import re
from pathlib import Path
from typing import Any, TypeVar

import httpx
import kubernetes_validate
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from service.config import ServerSettings, Settings
from tests.deploy.test_container import DOCKERFILE, final_stage, only

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "kubernetes"
FILES = sorted(path.name for path in MANIFESTS.glob("*.yaml") if path.name != "kustomization.yaml")
# 1.30: the oldest release whose kubelet runs the preStop `sleep` action by default; and the newest schemas shipped.
VERSIONS = ("1.30", kubernetes_validate.latest_version())
WEB_PROCESS_MIB = 1024  # measured: ~190 MiB after start-up, ~630 MiB at peak answering a 1e6-point Hessian batch
POOL_STOP_SECONDS = 5  # the app's shutdown waits this long for the worker pool to stop (service/runtime/workers.py)
Manifest = dict[str, Any]
SettingsT = TypeVar("SettingsT", Settings, ServerSettings)


def _documents(name: str) -> list[Manifest]:
    return [document for document in yaml.safe_load_all((MANIFESTS / name).read_text()) if document]


def _one(kind: str) -> Manifest:
    [manifest] = [document for name in FILES for document in _documents(name) if document["kind"] == kind]
    return manifest


@pytest.fixture(scope="module")
def deployment() -> Manifest:
    return _one("Deployment")


@pytest.fixture(scope="module")
def pod(deployment: Manifest) -> Manifest:
    spec: Manifest = deployment["spec"]["template"]["spec"]
    return spec


@pytest.fixture(scope="module")
def container(pod: Manifest) -> Manifest:
    [only] = pod["containers"]
    return dict(only)


def _env(container: Manifest) -> dict[str, str]:
    return {variable["name"]: variable["value"] for variable in container["env"]}


def _settings(kind: type[SettingsT], container: Manifest, monkeypatch: pytest.MonkeyPatch) -> SettingsT:
    """``kind`` as the container's environment makes it (not this process's); an unknown name is an error."""
    prefix = kind.model_config["env_prefix"]
    for name in [name for name in os.environ if name.startswith(prefix)]:
        monkeypatch.delenv(name)
    values = {name.removeprefix(prefix).lower(): value for name, value in _env(container).items() if prefix in name}
    return kind.model_validate(values)


@pytest.fixture
def deployed(container: Manifest, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The service's settings in the container: its NABLA_* variables over the defaults."""
    return _settings(Settings, container, monkeypatch)


@pytest.fixture
def server(container: Manifest, monkeypatch: pytest.MonkeyPatch) -> ServerSettings:
    """How ``python -m service`` runs uvicorn in the container: its UVICORN_* variables over the defaults."""
    return _settings(ServerSettings, container, monkeypatch)


def _mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity).groups()  # type: ignore[union-attr]
    scale = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}[unit]
    return float(number) * scale / 2**20


def _cores(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def _port(container: Manifest, reference: int | str) -> int:
    """The container port a probe or a Service's targetPort names (by name or by number)."""
    [port] = [port for port in container["ports"] if reference in (port["name"], port["containerPort"])]
    number: int = port["containerPort"]
    return number


class TestSchemas:
    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("name", FILES)
    def test_every_manifest_is_valid_in_strict_mode(self, name: str, version: str) -> None:
        for document in _documents(name):
            kubernetes_validate.validate(document, version, strict=True)

    def test_strict_mode_rejects_a_misspelled_field(self, deployment: Manifest) -> None:
        broken = copy.deepcopy(deployment)
        container = broken["spec"]["template"]["spec"]["containers"][0]
        container["livenesProbe"] = container.pop("livenessProbe")
        with pytest.raises(kubernetes_validate.ValidationError, match="livenesProbe"):
            kubernetes_validate.validate(broken, VERSIONS[0], strict=True)

    def test_the_kustomization_applies_every_manifest(self) -> None:
        [kustomization] = _documents("kustomization.yaml")
        assert sorted(kustomization["resources"]) == FILES
        assert {document["kind"] for name in FILES for document in _documents(name)} == {
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
        }


class TestSelectors:
    def test_the_deployment_selects_its_own_pods(self, deployment: Manifest) -> None:
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()

    @pytest.mark.parametrize(
        ("kind", "path"),
        [("Service", ("spec", "selector")), ("PodDisruptionBudget", ("spec", "selector", "matchLabels"))],
    )
    def test_service_and_budget_select_the_deployments_pods(
        self, deployment: Manifest, kind: str, path: tuple[str, ...]
    ) -> None:
        selector = _one(kind)
        for key in path:
            selector = selector[key]
        assert selector == deployment["spec"]["selector"]["matchLabels"]

    def test_the_spread_constraint_counts_the_deployments_pods(self, deployment: Manifest, pod: Manifest) -> None:
        for constraint in pod["topologySpreadConstraints"]:
            assert constraint["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]

    def test_the_autoscaler_scales_the_deployment_on_cpu(self, deployment: Manifest, container: Manifest) -> None:
        hpa = _one("HorizontalPodAutoscaler")
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["apiVersion"], target["kind"], target["name"]) == (
            deployment["apiVersion"],
            "Deployment",
            deployment["metadata"]["name"],
        )
        [metric] = hpa["spec"]["metrics"]
        assert (metric["type"], metric["resource"]["name"]) == ("Resource", "cpu")
        assert _cores(container["resources"]["requests"]["cpu"]) > 0  # utilization is measured against the request

    def test_the_budget_lets_a_node_drain(self) -> None:
        # With minAvailable equal to the replicas, an eviction would wait forever.
        assert (
            _one("PodDisruptionBudget")["spec"]["minAvailable"] < _one("HorizontalPodAutoscaler")["spec"]["minReplicas"]
        )


class TestEndpoints:
    def test_one_port_everywhere(self, deployment: Manifest, container: Manifest, server: ServerSettings) -> None:
        port = server.port
        assert _port(container, "http") == port
        assert _port(container, _one("Service")["spec"]["ports"][0]["targetPort"]) == port
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert _port(container, container[probe]["httpGet"]["port"]) == port
        assert int(deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"]) == port

    def test_the_server_listens_on_the_pod_address(self, server: ServerSettings) -> None:
        assert server.host == "0.0.0.0"

    def test_liveness_and_readiness_are_different_endpoints(self, container: Manifest) -> None:
        live, ready = (container[probe]["httpGet"]["path"] for probe in ("livenessProbe", "readinessProbe"))
        assert (live, ready) == ("/healthz", "/readyz")

    @pytest.mark.anyio
    async def test_every_probed_and_scraped_path_answers(
        self, deployment: Manifest, container: Manifest, client: httpx.AsyncClient
    ) -> None:
        paths = [container[probe]["httpGet"]["path"] for probe in ("startupProbe", "livenessProbe", "readinessProbe")]
        paths.append(deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/path"])
        for path in paths:
            response = await client.get(path)
            assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:200]}"


def _image_user() -> tuple[int, int]:
    """The numeric uid and gid of the Dockerfile's final ``USER``."""
    parser = DockerfileParser(fileobj=io.BytesIO(DOCKERFILE.read_bytes()))
    user, _, group = only(final_stage(parser), "USER").partition(":")
    return int(user), int(group or user)


class TestHardening:
    def test_the_container_runs_as_the_images_numeric_user_without_privileges(
        self, pod: Manifest, container: Manifest
    ) -> None:
        for context in (pod["securityContext"], container["securityContext"]):
            assert context["runAsNonRoot"] is True
            assert (context["runAsUser"], context["runAsGroup"]) == _image_user()
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert pod["automountServiceAccountToken"] is False

    def test_tmp_is_the_only_writable_path_and_lives_in_memory(self, pod: Manifest, container: Manifest) -> None:
        [mount] = container["volumeMounts"]
        assert mount["mountPath"] == "/tmp"
        [volume] = [volume for volume in pod["volumes"] if volume["name"] == mount["name"]]
        assert volume["emptyDir"]["medium"] == "Memory"
        assert _mebibytes(volume["emptyDir"]["sizeLimit"]) > 0


class TestResources:
    def test_the_environment_is_valid_settings(self, deployed: Settings, container: Manifest) -> None:
        assert deployed.workers == int(_env(container)["NABLA_WORKERS"])

    def test_one_worker_per_core_of_the_cpu_limit(self, deployed: Settings, container: Manifest) -> None:
        assert _cores(container["resources"]["limits"]["cpu"]) >= deployed.workers

    def test_the_memory_limit_holds_every_worker_at_its_cap(
        self, deployed: Settings, pod: Manifest, container: Manifest
    ) -> None:
        # tmpfs pages count against the container's memory too.
        tmp = sum(_mebibytes(volume["emptyDir"].get("sizeLimit", "0")) for volume in pod["volumes"])
        needed = deployed.workers * deployed.worker_memory_mb + WEB_PROCESS_MIB + tmp
        assert _mebibytes(container["resources"]["limits"]["memory"]) >= needed

    def test_requests_are_within_limits(self, container: Manifest) -> None:
        requests, limits = container["resources"]["requests"], container["resources"]["limits"]
        assert _cores(requests["cpu"]) <= _cores(limits["cpu"])
        assert _mebibytes(requests["memory"]) <= _mebibytes(limits["memory"])

    def test_in_flight_requests_can_finish_after_sigterm(self, deployed: Settings, server: ServerSettings) -> None:
        # The longest a request waits for the workers: its symbolic task, then the exact values of its point.
        assert server.timeout_graceful_shutdown >= deployed.compute_timeout + deployed.exact_timeout

    def test_the_grace_period_covers_draining_and_shutdown(
        self, pod: Manifest, container: Manifest, server: ServerSettings
    ) -> None:
        drain = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        shutdown = server.timeout_graceful_shutdown + POOL_STOP_SECONDS
        assert pod["terminationGracePeriodSeconds"] >= drain + shutdown
