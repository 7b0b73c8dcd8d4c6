"""The benchmark peers of aigov's webhook: OPA Gatekeeper and a native ValidatingAdmissionPolicy.

Both do aigov's `AIGOV_UNGOVERNED` detection, generated from `aigov.core.config.Config`
so they do the same work as aigov's Rego (docs/detection.md lists the signals):

- `gatekeeper_template` / `gatekeeper_constraint`: a ConstraintTemplate whose
  Rego (``ungoverned.rego``) ports policies/aigov/admission/detection.rego,
  images.rego and workload.rego rule by rule, with the config's kinds table and
  detection as a constant; every signal but strict namespaces (Gatekeeper's input
  has no namespace labels). `start_template_opa` serves it in a plain OPA;
- `ungoverned_policies`: ValidatingAdmissionPolicies (CEL, in the API server)
  for the built-in kinds with one pod spec (every signal, strict namespaces
  through `namespaceObject`) and the serving/training kinds. Globs become RE2
  expressions as in the webhook's pre-filter (`aigov.install.prefilter`).

`devkit.peers.kyverno` turns the VAPs into Kyverno ValidatingPolicies (the same CEL) and runs Kyverno.

`start_gatekeeper` runs Gatekeeper's manager (built by hack/peers) against a
`ControlPlane` on loopback, registered with a `url:` webhook and its own TLS pair;
with `governed` its template is instead aigov's whole decision over AISystems
synced into data.inventory (`devkit.peers.governed`).
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aigov.core.config import ENFORCEMENT_LABEL, Config, EnforcementMode
from aigov.core.workloads import Role, WorkloadKind
from aigov.install.prefilter import any_glob, any_image, any_regex, matches
from devkit import binaries
from devkit.devcluster import LOOPBACK, ControlPlane, OpaServer, Server, free_port, wait_until
from devkit.devstack import apply, write_serving_pair
from devkit.peers import governed as full

TEMPLATE = "aigovungoverned"
CONSTRAINT_KIND = "AigovUngoverned"
GATEKEEPER_NAMESPACE = "gatekeeper-system"
GATEKEEPER_POD = "gatekeeper-bench"
GATEKEEPER_WEBHOOK = "validation.gatekeeper.sh"
VAP_PREFIX = "aigov-ungoverned"
EXCLUDED_NAMESPACES = ("kube-system", GATEKEEPER_NAMESPACE, "kyverno", "aigov-system")
_REGO = Path(__file__).with_name("ungoverned.rego")


def _namespace_selector() -> dict[str, Any]:
    """aigov's: leave kube-system and the controllers' namespaces alone, and namespaces labelled enforcement=off."""
    return {
        "matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": list(EXCLUDED_NAMESPACES)},
            {"key": ENFORCEMENT_LABEL, "operator": "NotIn", "values": [EnforcementMode.OFF.value]},
        ]
    }


def _resource_rules(kinds: tuple[WorkloadKind, ...]) -> list[dict[str, Any]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for kind in kinds:
        groups[kind.group].append(kind.resource)
    return [
        {
            "apiGroups": [group],
            "apiVersions": ["*"],
            "resources": sorted(set(resources)),
            "operations": ["CREATE", "UPDATE"],
        }
        for group, resources in groups.items()
    ]


def gatekeeper_rego(config: Config) -> str:
    """The template's Rego v1 module with the config's detection inlined."""
    data = config.policy_data()
    inlined = {key: data[key] for key in ("kinds", "kindIndex", "detection", "systemLabel")}
    return _REGO.read_text().replace("__CONFIG__", json.dumps(inlined, sort_keys=True))


def start_template_opa(workdir: Path, config: Config | None = None, *, governed: bool = False) -> OpaServer:
    """A plain OPA (no bundle, no authorization) holding only a template's Rego, as Gatekeeper evaluates it.

    With `governed`, the governed template's modules (its libs and entry point); its data.inventory is
    then written with `PUT /v1/data/inventory`.
    """
    config = config or Config()
    workdir.mkdir(parents=True, exist_ok=True)
    texts = [*full.libs(config), full.main_module()] if governed else [gatekeeper_rego(config)]
    modules = []
    for index, text in enumerate(texts):
        modules.append(workdir / f"template-{index}.rego")
        modules[-1].write_text(text)
    port = free_port()
    argv: list[str | Path] = [
        binaries.find("opa"),
        "run",
        "--server",
        f"--addr={LOOPBACK}:{port}",
        "--disable-telemetry",
        *modules,
    ]
    opa = OpaServer(Server.start("opa-template", argv, workdir), port)
    try:
        with httpx.Client() as probe:
            wait_until(opa.server, probe, f"{opa.url}/health", 30)
    except BaseException:
        opa.server.stop()
        raise
    return opa


def gatekeeper_template(config: Config, *, governed: bool = False) -> dict[str, Any]:
    """The ConstraintTemplate doing aigov's ungoverned detection (`governed`: aigov's whole decision)."""
    name, kind = (full.TEMPLATE, full.CONSTRAINT_KIND) if governed else (TEMPLATE, CONSTRAINT_KIND)
    source = full.source(config) if governed else {"version": "v1", "rego": gatekeeper_rego(config)}
    return {
        "apiVersion": "templates.gatekeeper.sh/v1",
        "kind": "ConstraintTemplate",
        "metadata": {"name": name},
        "spec": {
            "crd": {"spec": {"names": {"kind": kind}}},
            "targets": [{"target": "admission.k8s.gatekeeper.sh", "code": [{"engine": "Rego", "source": source}]}],
        },
    }


def gatekeeper_constraint(
    config: Config, selector: Selector | None = None, kind: str = CONSTRAINT_KIND
) -> dict[str, Any]:
    """The Constraint (of the template's `kind`) applying it to every kind of aigov's table, in aigov's namespaces."""
    groups: dict[str, list[str]] = defaultdict(list)
    for entry in config.kinds:
        groups[entry.group].append(entry.kind)
    return {
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": kind,
        "metadata": {"name": _constraint_name(kind)},
        "spec": {
            "enforcementAction": "deny",
            "match": {
                "kinds": [{"apiGroups": [g], "kinds": sorted(set(k))} for g, k in groups.items()],
                "namespaceSelector": selector or _namespace_selector(),
            },
        },
    }


def _constraint_name(kind: str) -> str:
    return "aigov-governed" if kind == full.CONSTRAINT_KIND else "aigov-ungoverned"


def _label_check(config: Config, label_paths: tuple[str, ...]) -> str:
    checks = [f"object.{path.replace('.', '.?')}[?'{config.system_label}'].orValue('') != ''" for path in label_paths]
    return " || ".join(f"({check})" for check in checks)


Selector = dict[str, Any]
"""A namespaceSelector; None: aigov's (`_namespace_selector`)."""


def _vap(
    name: str, kinds: tuple[WorkloadKind, ...], variables: list[tuple[str, str]], ai: str, selector: Selector | None
) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": _resource_rules(kinds),
                "namespaceSelector": selector or _namespace_selector(),
            },
            "variables": [{"name": n, "expression": e} for n, e in variables],
            "validations": [
                {
                    "expression": f"variables.labelled || !({ai})",
                    "messageExpression": "'AIGOV_UNGOVERNED: ' + request.resource.resource + '/' + "
                    "object.metadata.name + ' is an AI workload without an aigov.io/system label'",
                    "reason": "Forbidden",
                }
            ],
        },
    }


def _detection_variables(config: Config, spec: str) -> list[tuple[str, str]]:
    """CEL variables of detection.rego's signals over the pod spec at CEL path `spec`; `ai` is the verdict.

    Storage URIs and kinds' command fields are not read: the built-in kinds have neither.
    """
    d = config.detection
    image, line = "c.image.lowerAscii()", "(c.?command.orValue([]) + c.?args.orValue([])).join(' ')"
    probe_image = matches(image, any_image(d.accelerator_probe_images))
    probe = f"((has(c.image) && {probe_image}) || {matches(line, any_regex(d.accelerator_probe_commands))})"
    accelerator = " || ".join(
        f"c.?resources.?{section}.orValue({{}}).exists(k, {matches('k', any_glob(d.accelerator_resources))})"
        for section in ("limits", "requests")
    )
    claim = "r.?resourceClaimTemplateName.orValue(r.?resourceClaimName.orValue(r.name))"
    value = "e.?value.orValue('')"
    runtime_class = f"{spec}.?runtimeClassName.orValue('')"
    reason = f"object.metadata.?annotations[?'{d.not_ai_reason_annotation}'].orValue('').trim() != ''"
    engine = matches(image, any_image(d.image_patterns))
    excluded = matches(image, any_image(d.excluded_image_patterns))
    signals = [
        f"variables.relevant.exists(c, has(c.image) && {engine} && !{excluded})",
        f"variables.relevant.exists(c, {matches(line, any_regex(d.command_patterns + d.model_patterns))})",
        f"variables.containers.exists(c, c.?env.orValue([]).exists(e, {matches('e.name', any_glob(d.model_env))}"
        f" || {matches(value, any_regex(d.model_patterns))}))",
        f"variables.containers.exists(c, !{probe} && ({accelerator}))",
        f"variables.working && {spec}.?resourceClaims.orValue([]).exists(r, "
        f"{matches(claim, any_glob(d.resource_claim_patterns))})",
        f"variables.working && {matches(runtime_class, any_glob(d.runtime_classes))}",
        f"variables.containers.exists(c, !{probe} && c.?env.orValue([]).exists(e, e.name in {list(d.accelerator_env)}"
        f" && !({value}.lowerAscii() in ['', 'void', 'none'])))",
    ]
    ignored = matches(image, any_image(d.ignored_image_patterns))
    strict = (
        f"namespaceObject.metadata.?labels[?'{d.strict_namespace_label}'].orValue('') == '{d.strict_namespace_value}'"
    )
    return [
        (
            "containers",
            " + ".join(
                f"{spec}.?{field}.orValue([])" for field in ("initContainers", "containers", "ephemeralContainers")
            ),
        ),
        ("relevant", f"variables.containers.filter(c, !has(c.image) || !{ignored})"),
        ("working", f"{spec}.?containers.orValue([]).exists(c, !{probe})"),
        ("strict", strict),
        ("declared", f"object.metadata.?labels[?'{d.not_ai_label}'].orValue('') == 'true' && {reason}"),
        ("ai", "(variables.strict || " + " || ".join(f"({s})" for s in signals) + ") && !variables.declared"),
    ]


def ungoverned_policies(config: Config, selector: Selector | None = None) -> list[dict[str, Any]]:
    """ValidatingAdmissionPolicies and bindings: one per pod-spec path of the built-in kinds, one for serving kinds.

    The built-in kinds get every signal of detection.rego (`_detection_variables`).
    Wrapper kinds (pod templates under lists and maps) are left to the webhooks:
    CEL would need one expression per shape, and the benchmarks send Deployments.
    """
    by_path: dict[tuple[str, tuple[str, ...]], list[WorkloadKind]] = defaultdict(list)
    for kind in config.kinds:
        if kind.role == Role.WORKLOAD and len(kind.pod_specs) == 1:
            by_path[(kind.pod_specs[0], kind.label_paths())].append(kind)
    docs: list[dict[str, Any]] = []
    for index, ((spec_path, label_paths), kinds) in enumerate(sorted(by_path.items())):
        variables = _detection_variables(config, f"object.{spec_path.replace('.', '.?')}")
        variables.append(("labelled", _label_check(config, label_paths)))
        docs.append(_vap(f"{VAP_PREFIX}-{index}", tuple(kinds), variables, "variables.ai", selector))
    serving = tuple(k for k in config.kinds if k.ai_by_kind)
    docs.append(
        _vap(
            f"{VAP_PREFIX}-serving",
            serving,
            [("labelled", _label_check(config, ("metadata.labels",)))],
            "true",
            selector,
        )
    )
    bindings = [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": doc["metadata"]["name"]},
            "spec": {"policyName": doc["metadata"]["name"], "validationActions": ["Deny"]},
        }
        for doc in docs
    ]
    return [*docs, *bindings]


def gatekeeper_crds() -> Path:
    """Gatekeeper's CRDs, extracted by hack/peers from its module's deploy/gatekeeper.yaml."""
    override = os.environ.get("AIGOV_GATEKEEPER_CRDS")
    return Path(override) if override else binaries.find("gatekeeper").with_name("crds.yaml")


@dataclass
class Gatekeeper:
    """A running Gatekeeper manager (webhook, generate and status operations)."""

    server: Server
    port: int
    health_port: int
    metrics_port: int
    ca_pem: bytes

    @property
    def url(self) -> str:
        """Base URL of the admission server."""
        return f"https://{LOOPBACK}:{self.port}"

    def registration(self, config: Config, selector: Selector | None = None) -> dict[str, Any]:
        """A ValidatingWebhookConfiguration sending aigov's kinds to Gatekeeper, failing closed like aigov's."""
        return {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": "gatekeeper-bench"},
            "webhooks": [
                {
                    "name": GATEKEEPER_WEBHOOK,
                    "clientConfig": {"url": f"{self.url}/v1/admit", "caBundle": base64.b64encode(self.ca_pem).decode()},
                    "rules": [rule | {"scope": "Namespaced"} for rule in _resource_rules(config.kinds)],
                    "failurePolicy": "Fail",
                    "matchPolicy": "Equivalent",
                    "sideEffects": "None",
                    "timeoutSeconds": 3,
                    "admissionReviewVersions": ["v1"],
                    "namespaceSelector": selector or _namespace_selector(),
                }
            ],
        }

    def stop(self) -> None:
        """Stop the manager."""
        self.server.stop(timeout=20)


def start_gatekeeper(
    cluster: ControlPlane,
    workdir: Path,
    config: Config | None = None,
    selector: Selector | None = None,
    *,
    governed: bool = False,
) -> Gatekeeper:
    """Install Gatekeeper's CRDs, its Pod object, the template and constraint; start the manager; wait until it denies.

    The manager runs as the cluster admin; it is registered only once its
    constraint is enforced (`Gatekeeper.registration`, applied by the caller).
    With `governed` the template is aigov's whole decision and the manager syncs
    AISystems and namespaces (`devkit.peers.governed`); the caller waits for the sync.
    """
    config = config or Config()
    workdir.mkdir(parents=True, exist_ok=True)
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(gatekeeper_crds()))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
    apply(cluster, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": GATEKEEPER_NAMESPACE}})
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": GATEKEEPER_POD, "namespace": GATEKEEPER_NAMESPACE},
        "spec": {"containers": [{"name": "manager", "image": "openpolicyagent/gatekeeper:v3.23.1"}]},
    }
    apply(cluster, pod)
    certs = workdir / "certs"
    certs.mkdir(exist_ok=True)
    ca_pem = write_serving_pair(certs / "tls.crt", certs / "tls.key")
    port, health, metrics = free_port(), free_port(), free_port()
    env_prefix = ["env", f"POD_NAME={GATEKEEPER_POD}", f"POD_NAMESPACE={GATEKEEPER_NAMESPACE}"]
    env_prefix.append(f"KUBECONFIG={cluster.kubeconfig}")
    server = Server.start(
        "gatekeeper",
        [
            *env_prefix, binaries.find("gatekeeper"),
            "--operation=webhook", "--operation=generate", "--operation=status",
            "--audit-interval=86400", f"--port={port}", f"--host={LOOPBACK}", f"--cert-dir={certs}",
            "--disable-cert-rotation", f"--health-addr={LOOPBACK}:{health}", f"--metrics-addr={LOOPBACK}:{metrics}",
            "--log-level=ERROR",
        ],
        workdir,
    )  # fmt: skip
    gatekeeper = Gatekeeper(server, port, health, metrics, ca_pem)
    try:
        with httpx.Client() as probe:
            wait_until(server, probe, f"http://{LOOPBACK}:{health}/readyz", 120)
        kind = full.CONSTRAINT_KIND if governed else CONSTRAINT_KIND
        if governed:
            apply(cluster, full.sync_config())
        apply(cluster, gatekeeper_template(config, governed=governed))
        _wait_crd(cluster, f"{kind.lower()}.constraints.gatekeeper.sh", server)
        apply(cluster, gatekeeper_constraint(config, selector, kind))
        _wait_enforced(cluster, server, kind)
    except BaseException:
        gatekeeper.stop()
        raise
    return gatekeeper


def _wait_crd(cluster: ControlPlane, name: str, server: Server, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        if cluster.kubectl("get", "crd", name, check=False).returncode == 0:
            cluster.wait_established(f"{name}")
            return
        time.sleep(0.5)
    raise RuntimeError(f"Gatekeeper did not create {name} within {timeout:.0f}s; log:\n{server.log_tail()}")


def _wait_enforced(cluster: ControlPlane, server: Server, kind: str, timeout: float = 90) -> None:
    """Until the constraint's status says the manager enforces it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        server.check_alive()
        result = cluster.kubectl("get", kind.lower(), _constraint_name(kind), "-o", "json", check=False)
        if result.returncode == 0:
            statuses = json.loads(result.stdout).get("status", {}).get("byPod", [])
            if any(s.get("enforced") for s in statuses):
                return
        time.sleep(0.5)
    raise RuntimeError(f"the Gatekeeper constraint was not enforced within {timeout:.0f}s; log:\n{server.log_tail()}")
