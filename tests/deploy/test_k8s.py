"""What an operator installing on a cluster relies on in deploy/k8s: every overlay renders,
every object is valid for a current Kubernetes release and the operators' resources for
their operators' APIs, every process runs with probes, resources and a locked-down
security context, and Prometheus scrapes every process that has metrics."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from services.common import registry
from services.common.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
OVERLAYS = ["dev", "production"]
KUBERNETES = "1.35.0"  # a current release; the schemas ship with kubernetes-validate
PROCESSES = {*registry.names(), "worker", "codec-server"}
# the engines' resources, beside the platform's (docs/DEPLOY.md, "Installing")
ENGINES = [ROOT / "deploy" / engine / "cluster.yaml" for engine in ("postgres", "rabbitmq")]
# the operators' APIs as packages (tests/deploy/package.json; make install brings them)
CUSTOM_RESOURCES = ROOT / "tests" / "deploy" / "custom-resources.mjs"


def render(overlay: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    rendered = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy" / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def is_custom(obj: dict[str, Any]) -> bool:
    """An operator's resource, not Kubernetes' own: its API group is a domain not k8s.io's."""
    group = obj["apiVersion"].rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def engines() -> list[dict[str, Any]]:
    return [doc for path in ENGINES for doc in yaml.safe_load_all(path.read_text()) if doc]


def custom_resource_problems(resources: list[dict[str, Any]]) -> list[str]:
    """What the operators' APIs find wrong in these resources, as "Kind/name: path: what"."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    checked = subprocess.run(
        [node, str(CUSTOM_RESOURCES)],
        input=json.dumps(resources),
        capture_output=True,
        text=True,
        check=True,
    )
    found: list[str] = json.loads(checked.stdout)
    return found


def of_kind(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def problems_of(workload: dict[str, Any]) -> list[str]:
    """What a Deployment or Job lacks to run safely on a shared cluster."""
    name = workload["metadata"]["name"]
    pod = workload["spec"]["template"]["spec"]
    found = []
    security = pod.get("securityContext", {})
    if not security.get("runAsNonRoot"):
        found.append(f"{name}: the pod may run as root")
    for container in pod["containers"]:
        where = f"{name}/{container['name']}"
        if workload["kind"] == "Deployment":
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in container:
                    found.append(f"{where}: no {probe}")
        resources = container.get("resources", {})
        for part in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if resource not in resources.get(part, {}):
                    found.append(f"{where}: no {resource} {part[:-1]}")
        context = container.get("securityContext", {})
        if not context.get("readOnlyRootFilesystem"):
            found.append(f"{where}: writable root filesystem")
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: may escalate privileges")
        if "ALL" not in context.get("capabilities", {}).get("drop", []):
            found.append(f"{where}: keeps its capabilities")
    return found


def test_every_object_is_valid_for_a_current_kubernetes(objects) -> None:
    for obj in objects:
        if not is_custom(obj):
            kubernetes_validate.validate(obj, KUBERNETES, strict=True)


def test_the_operators_resources_are_valid_for_their_operators_apis() -> None:
    """CloudNativePG's Cluster and ScheduledBackup, the Prometheus Operator's ServiceMonitor:
    checked against each operator's API (kubernetes-models' packages, pinned). No package on
    PyPI, npm or Debian carries the RabbitMQ Cluster Operator's API, so its RabbitmqCluster
    is only read by test_the_engines_configuration_is_there_and_says_what_cannot_change."""
    rendered = [obj for overlay in OVERLAYS for obj in render(overlay) if is_custom(obj)]
    assert {obj["kind"] for obj in rendered} == {"ServiceMonitor"}
    assert custom_resource_problems([*engines(), *rendered]) == [
        "RabbitmqCluster/lifecare-rabbitmq: no schema here for rabbitmq.com/v1beta1"
    ]


def test_the_check_finds_a_misspelled_field_and_a_wrong_type() -> None:
    cluster = copy.deepcopy(next(doc for doc in engines() if doc["kind"] == "Cluster"))
    cluster["spec"]["instances"] = "3"
    cluster["spec"]["walstorage"] = cluster["spec"].pop("walStorage")
    cluster["spec"]["backup"]["retentionPolicy"] = 30
    monitor = copy.deepcopy(of_kind(render("production"), "ServiceMonitor")["lifecare"])
    monitor["spec"]["endpoints"][2]["port"] = 8011
    monitor["spec"]["endpoints"][0]["intervall"] = monitor["spec"]["endpoints"][0].pop("interval")
    assert custom_resource_problems([cluster, monitor]) == [
        "Cluster/lifecare-db: /spec/backup/retentionPolicy: must be string",
        "Cluster/lifecare-db: /spec/instances: must be integer",
        "Cluster/lifecare-db: /spec/walstorage: no such field",
        "ServiceMonitor/lifecare: /spec/endpoints/2/port: must be string",
        "ServiceMonitor/lifecare: /spec/endpoints/0/intervall: no such field",
    ]


def test_every_process_of_the_platform_is_deployed(objects) -> None:
    assert set(of_kind(objects, "Deployment")) == PROCESSES
    assert "migrate" in of_kind(objects, "Job")


def test_every_workload_has_probes_resources_and_a_locked_down_context(objects) -> None:
    workloads = [o for o in objects if o["kind"] in ("Deployment", "Job")]
    found = [problem for workload in workloads for problem in problems_of(workload)]
    assert not found, "\n".join(found)


def test_the_check_catches_a_deployment_without_probes_or_limits() -> None:
    deployment = copy.deepcopy(of_kind(render("production"), "Deployment")["orders"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    del container["readinessProbe"]
    del container["resources"]["limits"]
    container["securityContext"]["readOnlyRootFilesystem"] = False
    assert problems_of(deployment) == [
        "orders/orders: no readinessProbe",
        "orders/orders: no cpu limit",
        "orders/orders: no memory limit",
        "orders/orders: writable root filesystem",
    ]


def test_autoscalers_and_budgets_point_at_deployments(objects) -> None:
    deployments = of_kind(objects, "Deployment")
    for name, hpa in of_kind(objects, "HorizontalPodAutoscaler").items():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments, name
    assert {"web", "orders", "absence", "billing", "messaging", "worker"} <= set(
        of_kind(objects, "HorizontalPodAutoscaler")
    )
    labels = {
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] for d in deployments.values()
    }
    for name, budget in of_kind(objects, "PodDisruptionBudget").items():
        assert budget["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] in labels, name


def test_only_the_ingress_reaches_the_web_ui_and_everything_else_is_denied(objects) -> None:
    policies = of_kind(objects, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    web = policies["web-from-ingress"]["spec"]
    sources = [s for rule in web["ingress"] for s in rule["from"]]
    assert sources == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
    ingress = next(iter(of_kind(objects, "Ingress").values()))
    backends = {
        p["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert backends == {"web"}


def test_production_holds_secrets_only_by_reference() -> None:
    objects = render("production")
    assert of_kind(objects, "Secret") == {}
    config = of_kind(objects, "ConfigMap")["lifecare-config"]["data"]
    assert config["LIFECARE_ENV"] == "production"


def test_production_reaches_temporal_with_mtls_from_a_secret() -> None:
    objects = render("production")
    config = of_kind(objects, "ConfigMap")["lifecare-config"]["data"]
    mount = config["LIFECARE_TEMPORAL_TLS_CERT"].rsplit("/", 1)[0]
    for name, deployment in of_kind(objects, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        assert secrets.get("temporal-client-tls") == "temporal-client-tls", name
        mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
        assert mount in mounts, name


def scraped(objects: list[dict[str, Any]]) -> dict[str, set[int]]:
    """The container ports Prometheus scrapes, by process: a ServiceMonitor names the port of
    a Service it selects, and a NetworkPolicy lets the namespace `monitoring` reach it."""
    deployments = of_kind(objects, "Deployment")
    open_ports = {
        (name, port["port"])
        for policy in of_kind(objects, "NetworkPolicy").values()
        for rule in policy["spec"].get("ingress", [])
        if {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        in rule["from"]
        for expression in policy["spec"]["podSelector"]["matchExpressions"]
        for name in expression["values"]
        for port in rule["ports"]
    }
    found: dict[str, set[int]] = {}
    for monitor in of_kind(objects, "ServiceMonitor").values():
        (expression,) = monitor["spec"]["selector"]["matchExpressions"]
        named = {endpoint["port"] for endpoint in monitor["spec"]["endpoints"]}
        for service in of_kind(objects, "Service").values():
            name = service["metadata"]["labels"].get(expression["key"])
            if expression["operator"] != "In" or name not in expression["values"]:
                continue
            container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            for port in service["spec"]["ports"]:
                number = ports[port["targetPort"]]
                if port["name"] in named and (name, number) in open_ports:
                    found.setdefault(name, set()).add(number)
    return found


def test_prometheus_scrapes_every_api_and_both_ports_of_the_worker() -> None:
    """The APIs' /metrics on their own ports; the worker's event bridge on its health port and
    the Temporal SDK's metrics on the port the worker opens for them by default."""
    worker_metrics = Settings.model_fields["worker_metrics_port"].default
    assert scraped(render("production")) == {
        "orders": {8001},
        "absence": {8002},
        "billing": {8003},
        "messaging": {8004},
        "identity": {8005},
        "worker": {8010, worker_metrics},
    }


def test_the_engines_configuration_is_there_and_says_what_cannot_change() -> None:
    temporal = yaml.safe_load((ROOT / "deploy" / "temporal" / "helm-values.yaml").read_text())
    persistence = temporal["server"]["config"]["persistence"]
    assert persistence["numHistoryShards"] == 512
    stores = persistence["datastores"]
    assert stores["default"]["sql"]["databaseName"] == "temporal"
    assert stores["visibility"]["sql"]["databaseName"] == "temporal_visibility"
    assert "password" not in stores["default"]["sql"]  # by reference: existingSecret
    rabbit = yaml.safe_load((ROOT / "deploy" / "rabbitmq" / "cluster.yaml").read_text())
    assert rabbit["kind"] == "RabbitmqCluster" and rabbit["spec"]["replicas"] == 3
    postgres = list(yaml.safe_load_all((ROOT / "deploy" / "postgres" / "cluster.yaml").read_text()))
    cluster = next(d for d in postgres if d["kind"] == "Cluster")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["backup"]["retentionPolicy"]
    assert any(d["kind"] == "ScheduledBackup" for d in postgres)


def test_the_web_ui_signs_in_through_a_provider_its_secret_by_reference() -> None:
    objects = render("production")
    web = of_kind(objects, "Deployment")["web"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in web["env"]}
    assert env["LIFECARE_OIDC_ISSUER"]["value"].startswith("https://")
    assert env["LIFECARE_OIDC_REDIRECT_URL"]["value"].endswith("/logga-in/klar")
    secret = env["LIFECARE_OIDC_CLIENT_SECRET"]
    assert "value" not in secret
    assert secret["valueFrom"]["secretKeyRef"] == {"name": "lifecare-oidc", "key": "client-secret"}


def test_only_the_web_ui_goes_out_and_only_to_https(objects) -> None:
    """The provider is outside the cluster: the web UI may reach port 443 there, and no
    other process may go out at all."""
    outward = [
        p["spec"]
        for p in of_kind(objects, "NetworkPolicy").values()
        for rule in p["spec"].get("egress", [])
        for to in rule.get("to", [])
        if "ipBlock" in to
    ]
    assert outward and all(
        spec["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "web"}}
        and [port["port"] for rule in spec["egress"] for port in rule["ports"]] == [443]
        for spec in outward
    )
