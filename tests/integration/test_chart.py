"""charts/aigov with the real Helm, promtool and kube-apiserver: lint, schema, server-side dry-run, install, RBAC.

No pod runs here (no kubelet), so installs do not `--wait`; they check the objects.
The installed release is uninstalled at the end of its test: its webhook
configuration points at a Service without endpoints and its record policy binds
every `aisystems/status` write in the cluster.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from typer.main import get_command

from aigov.cli.app import app
from aigov.core.config import Config, Identity, parse_config
from aigov.core.workloads import WorkloadKind
from aigov.install import admission as registration
from aigov.install import namespace_policy, prefilter
from aigov.operator.environment import OPERATOR_ENV
from aigov.policy import bundle as policy_bundle
from aigov.policy import input as policy_input
from aigov.policy.bundle import read_bundle
from aigov.policy.opa import PolicyClient
from aigov.policy.opa_process import SERVER_ENV
from aigov.webhook import certrotation
from devkit import binaries
from devkit.chartgen import CHART
from devkit.devcluster import ControlPlane, OpaServer, Server, free_port, wait_until

REPO = CHART.parents[1]
FIXTURE_CRDS = REPO / "tests" / "fixtures" / "crds"
KUBE_VERSION = "1.35.4"
ALL_TOGGLES = (
    "tls.certManager.enabled=true",
    "monitoring.serviceMonitor.enabled=true",
    "monitoring.prometheusRule.enabled=true",
    "monitoring.grafanaDashboard.enabled=true",
    "operator.alertmanager.enabled=true",
    "operator.alertmanager.tokenSecret.name=alertmanager-token",
    "operator.prometheusUrl=http://prometheus-operated.monitoring:9090",
    "webhook.failurePolicy=Ignore",
    "audit.reports.policyReports=true",
)
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Helm's cache, config and data directories outside $HOME."""
    home = tmp_path_factory.mktemp("helm")
    return os.environ | {f"HELM_{kind}_HOME": str(home / kind.lower()) for kind in ("CACHE", "CONFIG", "DATA")}


def helm(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(binaries.find("helm")), *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{result.stderr}")
    return result


def render(env: dict[str, str], *sets: str, release: str = "aigov", namespace: str = "aigov-system") -> list[Doc]:
    args = ["template", release, str(CHART), "-n", namespace, "--kube-version", KUBE_VERSION]
    out = helm(env, *args, *(arg for value in sets for arg in ("--set", value))).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def one(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"{len(found)} {kind} {name or ''} rendered"
    return found[0]


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A control plane of this module's own: the chart installs cluster-wide, fail-closed admission and CRDs."""
    with ControlPlane(tmp_path_factory.mktemp("chart-controlplane")) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def crds(kube: ControlPlane) -> None:
    """The Prometheus Operator and cert-manager stand-in CRDs, and kopf's peering CRD from the chart."""
    kube.kubectl("apply", "-f", str(FIXTURE_CRDS), "-f", str(CHART / "crds"))
    for name in ("servicemonitors.monitoring.coreos.com", "certificates.cert-manager.io"):
        kube.wait_established(f"{name}")


# --- static checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sets", [(), ALL_TOGGLES], ids=["defaults", "all-toggles"])
def test_helm_lint(helm_env: dict[str, str], sets: tuple[str, ...]) -> None:
    result = helm(helm_env, "lint", "--strict", str(CHART), *(a for s in sets for a in ("--set", s)))
    assert "0 chart(s) failed" in result.stdout


def test_promtool_checks_and_unit_tests_the_rules() -> None:
    promtool = str(binaries.find("promtool"))
    rules = sorted(str(p) for p in (CHART / "rules").glob("*.yaml"))
    tests = sorted(str(p) for p in (CHART / "rules" / "tests").glob("*.yaml"))
    checked = subprocess.run([promtool, "check", "rules", *rules], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", *tests], capture_output=True, text=True, check=False)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.count("SUCCESS") == len(tests)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"webhook": {"replica": 3}}, "at '/webhook': additional properties 'replica' not allowed"),
        ({"webhook": {"replicas": "two"}}, "at '/webhook/replicas': got string, want integer"),
        ({"webhook": {"timeoutSeconds": 60}}, "at '/webhook/timeoutSeconds': maximum: got 60, want 30"),
        ({"webhook": {"failurePolicy": "Maybe"}}, "at '/webhook/failurePolicy': value must be one of 'Fail', 'Ignore'"),
        ({"config": {"defaultEnforcement": "loud"}}, "value must be one of 'enforce', 'warn', 'audit', 'off'"),
        ({"config": {"identity": {"approvers": ["x"]}}}, "additional properties 'approvers' not allowed"),
        ({"monitoring": {"prometheusRule": {"enabled": "yes"}}}, "got string, want boolean"),
    ],
    ids=["unknown-key", "wrong-type", "out-of-range", "bad-enum", "config-enum", "config-unknown-key", "bool"],
)
def test_schema_rejects_bad_values_with_a_clear_message(
    helm_env: dict[str, str], tmp_path: Path, values: Doc, message: str
) -> None:
    bad = tmp_path / "bad-values.yaml"
    bad.write_text(yaml.safe_dump(values))
    result = helm(helm_env, "template", "r", str(CHART), "--kube-version", KUBE_VERSION, "-f", str(bad), check=False)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr


def test_admission_objects_are_what_registration_renders(helm_env: dict[str, str]) -> None:
    sets = (
        "webhook.failurePolicy=Ignore",
        "webhook.timeoutSeconds=7",
        "webhook.excludedNamespaces={kube-system,monitoring}",
        "config.identity.approverGroups={risk-board,ai-council}",
        "config.identity.enforcementAdminGroups={platform-admins}",
    )
    docs = render(helm_env, *sets, release="gov", namespace="platform")
    config = Config(
        identity=Identity(
            approver_groups=("risk-board", "ai-council"),
            operator_usernames=("system:serviceaccount:platform:gov-aigov-operator",),
            enforcement_admin_groups=("platform-admins",),
        )
    )
    reg = registration.Registration(
        registration.ServiceClient("platform", "gov-aigov-webhook"),
        timeout_seconds=7,
        failure_policy="Ignore",
        aigov_namespace="platform",
        excluded_namespaces=("kube-system", "monitoring"),
    )
    vwc = one(docs, "ValidatingWebhookConfiguration", "gov-aigov")
    assert vwc["webhooks"] == registration.webhook_configuration(reg, config)["webhooks"]
    policy = one(docs, "ValidatingAdmissionPolicy", "gov-aigov-record-integrity")
    assert policy["spec"] == registration.record_policy(config)["spec"]
    binding = one(docs, "ValidatingAdmissionPolicyBinding", "gov-aigov-record-integrity")
    assert binding["spec"] == registration.record_policy_binding()["spec"] | {"policyName": policy["metadata"]["name"]}
    ns_policy = one(docs, "ValidatingAdmissionPolicy", "gov-aigov-namespace-enforcement")
    assert ns_policy["spec"] == namespace_policy.policy(config)["spec"]
    ns_binding = one(docs, "ValidatingAdmissionPolicyBinding", "gov-aigov-namespace-enforcement")
    assert ns_binding["spec"] == namespace_policy.binding()["spec"] | {"policyName": ns_policy["metadata"]["name"]}
    rendered = yaml.safe_load(one(docs, "ConfigMap", "gov-aigov-config")["data"]["config.yaml"])
    assert Config.model_validate(rendered) == config


def test_prefilter_is_rendered_only_for_the_detection_it_was_generated_from(helm_env: dict[str, str]) -> None:
    """A changed detection, kinds table or system label would make the chart's pre-filter skip workloads the
    policies deny: the chart then sends every workload (the operator-safety condition stays)."""

    def conditions(*sets: str) -> list[str]:
        vwc = one(render(helm_env, *sets), "ValidatingWebhookConfiguration", "aigov")
        hook = next(h for h in vwc["webhooks"] if h["name"] == registration.WORKLOADS_WEBHOOK)
        return [c["name"] for c in hook["matchConditions"]]

    generated = [c["name"] for c in prefilter.match_conditions(Config())]
    assert conditions() == ["not-operator-safety-write", *generated]
    for changed in ("config.detection.imagePatterns={mymodel*}", "config.systemLabel=example.com/system"):
        assert conditions(changed) == ["not-operator-safety-write"]


def test_helm_test_hook_runs_the_selftest_with_rights_to_dry_run_deployments_only(helm_env: dict[str, str]) -> None:
    docs = render(helm_env, "webhook.selftestNamespace=ml")
    pod = one(docs, "Pod", "aigov-selftest")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["metadata"]["namespace"] == "aigov-system"
    container = pod["spec"]["containers"][0]
    assert container["args"] == ["selftest", "--namespace", "ml"]
    assert pod["spec"]["serviceAccountName"] == "aigov-selftest"
    role = one(docs, "Role", "aigov-selftest")
    assert role["metadata"]["namespace"] == "ml"
    assert role["rules"] == [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}]
    binding = one(docs, "RoleBinding", "aigov-selftest")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "aigov-selftest", "namespace": "aigov-system"}]
    for doc in (role, binding, one(docs, "ServiceAccount", "aigov-selftest")):
        assert doc["metadata"]["annotations"]["helm.sh/hook"] == "test"
        assert int(doc["metadata"]["annotations"]["helm.sh/hook-weight"]) < 0, "created before the Pod"


def _sample(kind: WorkloadKind) -> Doc:
    """An object of `kind` running vLLM in every pod spec and container the table names (`*`: a one-item list)."""
    obj: Doc = {"apiVersion": kind.api_group_version, "kind": kind.kind, "metadata": {"name": "x"}, "spec": {}}
    container = {"name": "main", "image": "vllm/vllm-openai:v0.9.0"}
    places = [(path, {"containers": [container]}) for path in kind.pod_specs]
    for path, pod in [*places, *((path, container) for path in kind.containers)]:
        node: Any = obj
        names = path.split(".")
        for name, following in zip(names, [*names[1:], None], strict=True):
            if name == "*":
                node.append({})
                node = node[-1]
            elif following is None:
                node[name] = pod
            else:
                node = node.setdefault(name, [] if following == "*" else {})
    return obj


async def test_the_kinds_aigov_check_judges_are_the_kinds_the_chart_registers(
    helm_env: dict[str, str], opa: OpaServer
) -> None:
    """Every kind of the table is denied ungoverned by the real policies, and exactly those are registered."""
    config = Config()
    judged = set()
    async with PolicyClient(opa.url) as client:
        for kind in config.kinds:
            request = policy_input.admission_request(_sample(kind), "ml", config.kinds)
            document = policy_input.build(request, None, policy_input.Namespace("ml"), datetime.now(UTC))
            decision = await client.decide(document)
            if [v.code for v in decision.violations] == ["AIGOV_UNGOVERNED"]:
                judged.add((kind.group, kind.resource))
    vwc = one(render(helm_env), "ValidatingWebhookConfiguration", "aigov")
    hook = next(h for h in vwc["webhooks"] if h["name"] == registration.WORKLOADS_WEBHOOK)
    registered = {(r["apiGroups"][0], res) for r in hook["rules"] for res in r["resources"] if "/" not in res}
    assert judged == registered
    assert len(judged) == len(config.kinds), "every kind in the table is judged"


@pytest.mark.parametrize("policy", ["Fail", "Ignore"])
def test_workloads_hooks_install_failing_open_and_a_ready_replica_sets_the_value(
    helm_env: dict[str, str], policy: str
) -> None:
    docs = render(helm_env, f"webhook.failurePolicy={policy}")
    vwc = one(docs, "ValidatingWebhookConfiguration", "aigov")
    policies = {hook["name"]: hook["failurePolicy"] for hook in vwc["webhooks"]}
    assert policies == {
        "workloads.aigov.io": "Ignore",
        "strict-workloads.aigov.io": "Ignore",
        "aisystems.aigov.io": "Ignore",
    }
    webhook = next(
        c
        for c in one(docs, "Deployment", "aigov-webhook")["spec"]["template"]["spec"]["containers"]
        if c["name"] == "webhook"
    )
    assert {"--arm-webhook-configuration=aigov", f"--arm-failure-policy={policy}"} <= set(webhook["args"])


def test_opa_serves_the_bundle_the_aigov_image_writes(helm_env: dict[str, str], tmp_path: Path) -> None:
    docs = render(helm_env)
    assert not any(d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-policies") for d in docs)
    pod = one(docs, "Deployment", "aigov-webhook")["spec"]["template"]["spec"]
    names = [c["name"] for c in pod["initContainers"]]
    assert names.index("policy-bundle") < names.index("opa"), "the bundle is written before OPA starts"
    writer, opa = (next(c for c in pod["initContainers"] if c["name"] == n) for n in ("policy-bundle", "opa"))
    assert writer["image"] == pod["containers"][0]["image"]
    assert writer["command"] == ["python", "-m", "aigov.policy.bundle"]
    out = writer["args"][0].removeprefix("--out=")
    assert opa["args"][opa["args"].index("--bundle") + 1] == out
    assert "--authorization=basic" in opa["args"]
    assert "--optimize-store-for-read-speed" in opa["args"], "as aigov.policy.opa_process.server_argv"
    assert {e["name"]: e["value"] for e in opa["env"]} == SERVER_ENV
    assert {m["name"] for m in writer["volumeMounts"]} == {"bundle", "config"}
    assert {m["name"] for m in opa["volumeMounts"]} == {"bundle"}
    assert all(m["readOnly"] for m in opa["volumeMounts"])
    # The chart's commands, run for real: the writer with the chart's ConfigMap, then OPA with the chart's
    # arguments on a loopback port.
    config_map = one(docs, "ConfigMap", "aigov-config")["data"]["config.yaml"]
    config_file = tmp_path / "config.yaml"
    config_file.write_text(config_map)
    assert writer["args"][1] == "--config=/etc/aigov/config/config.yaml"
    local = tmp_path / "bundle" / "aigov"
    written = [f"--out={local}", f"--config={config_file}"]
    subprocess.run([sys.executable, "-m", "aigov.policy.bundle", *written], check=True, capture_output=True)
    shipped = read_bundle(config=parse_config(config_map, "the chart's ConfigMap"))
    assert json.loads((local / "data.json").read_text()) == shipped.data
    port = free_port()
    args = [
        f"--addr=127.0.0.1:{port}" if a.startswith("--addr=") else str(local) if a == out else a for a in opa["args"]
    ]
    args = [a for a in args if not a.startswith("--diagnostic-addr=")]
    server = Server.start("opa-chart", [binaries.find("opa"), *args], tmp_path)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            wait_until(server, client, "/health", 30)
            manifests = client.get("/v1/data/system/bundles").json()["result"]
            assert [m["manifest"]["revision"] for m in manifests.values()] == [shipped.sha256]
            assert client.put("/v1/policies/evil.rego", content="package aigov.admission\n").status_code == 401
    finally:
        server.stop()


def test_the_operator_runs_in_the_environment_devkit_and_the_benchmarks_give_it(helm_env: dict[str, str]) -> None:
    pod = one(render(helm_env), "Deployment", "aigov-operator")["spec"]["template"]["spec"]
    operator = next(c for c in pod["containers"] if c["name"] == "operator")
    assert {e["name"]: e["value"] for e in operator["env"]} == OPERATOR_ENV


def _options(command: Any) -> set[str]:
    return {opt for param in command.params for opt in getattr(param, "opts", [])}


def test_every_flag_the_chart_passes_exists(helm_env: dict[str, str]) -> None:
    cli = get_command(app)
    known = {
        "webhook": _options(cli.commands["webhook"]),  # type: ignore[attr-defined]
        "operator": _options(cli.commands["operator"]),  # type: ignore[attr-defined]
        "audit-server": _options(cli.commands["audit-server"]),  # type: ignore[attr-defined]
        "certrotation": {opt for action in certrotation.parser()._actions for opt in action.option_strings},
        "bundle": {opt for action in policy_bundle.parser()._actions for opt in action.option_strings},
    }
    seen = set()
    for sets in [(), ALL_TOGGLES, ("operator.verbose=true",)]:
        for kind in ("Deployment",):
            for doc in (d for d in render(helm_env, *sets) if d["kind"] == kind):
                spec = doc["spec"]["template"]["spec"]
                for container in spec.get("initContainers", []) + spec["containers"]:
                    if container["name"] == "opa":
                        continue
                    command = " ".join(container.get("command", []))
                    program = next((p for p in ("certrotation", "bundle") if f".{p}" in command), container["args"][0])
                    flags = [arg.split("=")[0] for arg in container["args"] if arg.startswith("--")]
                    unknown = set(flags) - known[program]
                    assert not unknown, f"{doc['metadata']['name']}/{container['name']}: no such option {unknown}"
                    seen.add(program)
    assert seen == set(known)


def test_prometheus_rule_carries_the_rule_files(helm_env: dict[str, str]) -> None:
    sets = (
        "monitoring.prometheusRule.enabled=true",
        "monitoring.prometheusRule.disabledAlerts={AigovDriftCheckBreached}",
        "monitoring.prometheusRule.alertLabels.team=ml-platform",
        "monitoring.prometheusRule.runbookBaseUrl=https://wiki.example.com/aigov",
    )
    rendered = one(render(helm_env, *sets), "PrometheusRule")["spec"]["groups"]
    expected = []
    for path in sorted((CHART / "rules").glob("*.yaml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules = [
                rule
                | {"labels": {"team": "ml-platform", **rule.get("labels", {})}}
                | {
                    "annotations": rule["annotations"]
                    | {"runbook_url": f"https://wiki.example.com/aigov#{rule['alert'].lower()}"}
                }
                for rule in group["rules"]
                if rule["alert"] != "AigovDriftCheckBreached"
            ]
            expected.append({"name": group["name"], "rules": rules})
    assert rendered == expected


def test_dashboard_configmap_is_labelled_for_the_grafana_sidecar(helm_env: dict[str, str]) -> None:
    docs = render(helm_env, "monitoring.grafanaDashboard.enabled=true")
    dashboard = one(docs, "ConfigMap", "aigov-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["aigov.json"]) == json.loads((CHART / "dashboards" / "aigov.json").read_text())


def test_webhook_pod_is_highly_available_and_locked_down(helm_env: dict[str, str]) -> None:
    docs = render(helm_env)
    deployment = one(docs, "Deployment", "aigov-webhook")
    pod = deployment["spec"]["template"]["spec"]
    assert deployment["spec"]["replicas"] >= 2
    assert one(docs, "PodDisruptionBudget")["spec"]["minAvailable"] == 1
    assert pod["affinity"]["podAntiAffinity"]
    assert pod["priorityClassName"] == "system-cluster-critical"
    assert pod["securityContext"]["runAsNonRoot"] is True
    opa = next(c for c in pod["initContainers"] if c["name"] == "opa")
    assert opa["restartPolicy"] == "Always" and "--disable-telemetry" in opa["args"]
    assert "--addr=127.0.0.1:8181" in opa["args"]
    webhook = pod["containers"][0]
    assert webhook["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert webhook["lifecycle"]["preStop"]["sleep"]["seconds"] > 0
    for container in [*pod["initContainers"], *pod["containers"]]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]


# --- against the real API server -------------------------------------------------------------------


@pytest.mark.usefixtures("crds")
@pytest.mark.parametrize("sets", [(), ALL_TOGGLES], ids=["defaults", "all-toggles"])
def test_every_rendered_object_passes_server_side_dry_run(
    kube: ControlPlane, namespace: str, helm_env: dict[str, str], tmp_path: Path, sets: tuple[str, ...]
) -> None:
    docs = render(helm_env, *sets, release=f"dry-{uuid.uuid4().hex[:6]}", namespace=namespace)
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(yaml.safe_dump_all(docs))
    result = kube.kubectl("apply", "--dry-run=server", "-f", str(manifest), check=False)
    assert result.returncode == 0, result.stderr
    applied = [line for line in result.stdout.splitlines() if line.endswith("(server dry run)")]
    assert len(applied) == len(docs)


def _adopt(kube: ControlPlane, kind: str, name: str, release: str, namespace: str) -> None:
    """Let the release take over an object another test applied with kubectl (docs/install.md: adopting CRDs)."""
    if kube.kubectl("get", kind, name, check=False).returncode != 0:
        return
    kube.kubectl(
        "annotate",
        "--overwrite",
        kind,
        name,
        f"meta.helm.sh/release-name={release}",
        f"meta.helm.sh/release-namespace={namespace}",
    )
    kube.kubectl("label", "--overwrite", kind, name, "app.kubernetes.io/managed-by=Helm")


def _get(kube: ControlPlane, *args: str) -> Doc:
    result: Doc = json.loads(kube.kubectl("get", *args, "-o", "json").stdout)
    return result


def _can(kube: ControlPlane, who: str, *args: str) -> bool:
    result = kube.kubectl("auth", "can-i", "--as", who, *args, check=False)
    return result.stdout.strip() == "yes"


@pytest.fixture
def installed(kube: ControlPlane, crds: None, namespace: str, helm_env: dict[str, str]) -> Iterator[str]:
    """A release installed into `namespace` (no --wait), uninstalled afterwards."""
    release = f"it-{uuid.uuid4().hex[:6]}"
    for crd in (
        "aisystems.aigov.io",
        "aigovexceptions.aigov.io",
        "aimanagementsystems.aigov.io",
        "nonconformities.aigov.io",
        "aisystemarchives.aigov.io",
    ):
        _adopt(kube, "crd", crd, release, namespace)
    base = ("--kubeconfig", str(kube.kubeconfig), "-n", namespace)
    helm(helm_env, "install", release, str(CHART), *base)
    try:
        yield release
    finally:
        helm(helm_env, "uninstall", release, *base)


def test_install_then_upgrade_keeps_runtime_tls_and_applies_changes(
    kube: ControlPlane, namespace: str, installed: str, helm_env: dict[str, str]
) -> None:
    fullname = f"{installed}-aigov"
    vwc = _get(kube, "validatingwebhookconfiguration", fullname)
    assert {w["timeoutSeconds"] for w in vwc["webhooks"]} == {3}
    assert {w["clientConfig"]["service"]["namespace"] for w in vwc["webhooks"]} == {namespace}
    assert _get(kube, "deployment", f"{fullname}-webhook", "-n", namespace)["spec"]["replicas"] == 2
    assert _get(kube, "deployment", f"{fullname}-operator", "-n", namespace)["spec"]["replicas"] == 1
    crd = _get(kube, "crd", "aisystems.aigov.io")
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert "data" not in _get(kube, "secret", f"{fullname}-webhook-tls", "-n", namespace)
    for role in ("approver", "assessor", "viewer"):
        _get(kube, "clusterrole", f"{fullname}-{role}")

    # what the TLS sidecar writes at run time, which an upgrade must leave alone
    bundle = base64.b64encode(b"runtime-ca").decode()
    patch = [{"op": "add", "path": f"/webhooks/{i}/clientConfig/caBundle", "value": bundle} for i in (0, 1, 2)]
    kube.kubectl("patch", "validatingwebhookconfiguration", fullname, "--type=json", "-p", json.dumps(patch))
    secret_data = {"data": {"tls.crt": base64.b64encode(b"runtime-cert").decode()}}
    kube.kubectl("patch", "secret", f"{fullname}-webhook-tls", "-n", namespace, "-p", json.dumps(secret_data))

    helm(
        helm_env,
        "upgrade",
        installed,
        str(CHART),
        "--kubeconfig",
        str(kube.kubeconfig),
        "-n",
        namespace,
        "--set",
        "webhook.timeoutSeconds=5",
        "--set",
        "webhook.replicas=3",
    )

    vwc = _get(kube, "validatingwebhookconfiguration", fullname)
    assert {w["timeoutSeconds"] for w in vwc["webhooks"]} == {5}
    assert {w["clientConfig"].get("caBundle") for w in vwc["webhooks"]} == {bundle}
    assert _get(kube, "deployment", f"{fullname}-webhook", "-n", namespace)["spec"]["replicas"] == 3
    assert _get(kube, "secret", f"{fullname}-webhook-tls", "-n", namespace)["data"] == secret_data["data"]


def test_rbac_grants_each_identity_what_it_needs_and_nothing_more(
    kube: ControlPlane, namespace: str, installed: str
) -> None:
    fullname = f"{installed}-aigov"
    webhook = f"system:serviceaccount:{namespace}:{fullname}-webhook"
    operator = f"system:serviceaccount:{namespace}:{fullname}-operator"
    elsewhere = ("-n", "some-team")
    in_release = ("-n", namespace)
    must = {
        webhook: [
            ("list", "aisystems.aigov.io", "-A"),
            ("watch", "aisystems.aigov.io", "-A"),
            ("get", "aisystems.aigov.io", *elsewhere),
            ("watch", "namespaces"),
            ("get", "deployments.apps", *elsewhere),
            ("get", "statefulsets.apps", *elsewhere),
            ("update", f"secrets/{fullname}-webhook-tls", *in_release),
            ("patch", f"validatingwebhookconfigurations/{fullname}"),
        ],
        operator: [
            ("watch", "aisystems.aigov.io", "-A"),
            ("patch", "aisystems.aigov.io", "--subresource=status", *elsewhere),
            ("list", "deployments.apps", "-A"),
            ("patch", "deployments.apps", "--subresource=scale", *elsewhere),
            ("create", "events", *elsewhere),
            ("create", "clusterkopfpeerings.kopf.dev"),
            ("delete", "pods", *elsewhere),  # a suspension deletes bare Pods and re-creates them on resume
            ("create", "pods", *elsewhere),
            ("create", "aisystemarchives.aigov.io"),  # the record archive: created and appended to
            ("patch", "aisystemarchives.aigov.io"),
        ],
    }
    must_not = {
        webhook: [
            ("get", "secrets/other", *in_release),
            ("list", "secrets", *in_release),
            ("patch", "validatingwebhookconfigurations/someone-elses"),
            ("create", "pods", *elsewhere),
            ("patch", "aisystems.aigov.io", "--subresource=status", *elsewhere),
            ("update", "deployments.apps", *elsewhere),
        ],
        operator: [
            ("delete", "aisystems.aigov.io", *elsewhere),
            ("update", "aisystems.aigov.io", *elsewhere),
            ("get", "secrets", *elsewhere),
            ("update", "pods", *elsewhere),
            ("delete", "deployments.apps", *elsewhere),
            ("patch", f"validatingwebhookconfigurations/{fullname}"),
            ("delete", "aisystemarchives.aigov.io"),  # retention admins alone delete archives
        ],
    }
    for who, checks in must.items():
        for check in checks:
            assert _can(kube, who, *check), f"{who} cannot {' '.join(check)}"
    for who, checks in must_not.items():
        for check in checks:
            assert not _can(kube, who, *check), f"{who} can {' '.join(check)}"


def test_any_authenticated_user_reads_the_configuration_and_nothing_else(
    kube: ControlPlane, namespace: str, installed: str
) -> None:
    """So `kubectl aigov status` judges with the cluster's configuration, whoever runs it."""
    config = f"configmap/{installed}-aigov-config"
    who = ("--as-group", "system:authenticated")
    assert _can(kube, "someone", "get", config, "-n", namespace, *who)
    assert not _can(kube, "someone", "get", "configmap/other", "-n", namespace, *who)
    assert not _can(kube, "someone", "list", "configmaps", "-n", namespace, *who)
    assert not _can(kube, "someone", "get", "secret/" + f"{installed}-aigov-webhook-tls", "-n", namespace, *who)


def test_people_roles_write_records_only_through_status(kube: ControlPlane, namespace: str, installed: str) -> None:
    fullname = f"{installed}-aigov"
    for role in ("approver", "assessor", "viewer"):
        binding = (f"{role}-{installed}", f"--clusterrole={fullname}-{role}", f"--user={role}-{installed}")
        kube.kubectl("create", "rolebinding", *binding, "-n", namespace)
    ns = ("-n", namespace)
    for role in ("approver", "assessor"):
        who = f"{role}-{installed}"
        assert _can(kube, who, "patch", "aisystems.aigov.io", "--subresource=status", *ns)
        assert _can(kube, who, "list", "aisystems.aigov.io", *ns)
        assert not _can(kube, who, "patch", "aisystems.aigov.io", *ns)
        assert not _can(kube, who, "delete", "aisystems.aigov.io", *ns)
    viewer = f"viewer-{installed}"
    assert _can(kube, viewer, "list", "aisystems.aigov.io", *ns)
    assert not _can(kube, viewer, "patch", "aisystems.aigov.io", "--subresource=status", *ns)


def test_helm_reports_the_pinned_kubernetes_version(helm_env: dict[str, str]) -> None:
    """The project's Helm is linked with Kubernetes' version, as released Helm is: no --kube-version needed."""
    out = helm(helm_env, "template", "r", str(CHART), "--show-only", "templates/NOTES.txt", check=False)
    assert "incompatible with Kubernetes v1.20" not in out.stderr
    rendered = helm(helm_env, "template", "r", str(CHART)).stdout
    assert "kind: Deployment" in rendered
