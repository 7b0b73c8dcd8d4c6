"""The Helm chart's values as pydantic models: the one source of values.yaml, values.schema.json and the README table.

Every field carries a description (it becomes the `# --` comment in values.yaml,
the README row and the schema's description). Models forbid unknown keys, so
the schema rejects a misspelt value instead of ignoring it. `config` is aigov's
own `Config`: the chart hands it to the webhook and the operator unchanged,
except that an empty `identity.operatorUsernames` means the chart's operator.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from aigov.core.config import Config, Identity
from devkit.binaries import pinned_versions

PullPolicy = Literal["Always", "IfNotPresent", "Never"]
Quantity = str | int


class _Values(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class Image(_Values):
    """A container image."""

    repository: str = Field(description="Image repository.")
    tag: str = Field(default="", description="Image tag; empty means the chart's appVersion (aigov image only).")
    digest: str = Field(
        default="", pattern=r"^(sha256:[a-f0-9]{64})?$", description="Image digest (`sha256:…`); wins over the tag."
    )
    pull_policy: PullPolicy = Field(default="IfNotPresent", description="Image pull policy.")


class Resources(_Values):
    """Container resource requests and limits."""

    requests: dict[str, Quantity] = Field(default_factory=dict, description="Resource requests.")
    limits: dict[str, Quantity] = Field(default_factory=dict, description="Resource limits.")


class ServiceAccount(_Values):
    """The component's ServiceAccount (always created: RBAC is bound to it)."""

    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations, e.g. for workload identity.")


class PodDisruptionBudget(_Values):
    """A PodDisruptionBudget so node drains keep a webhook replica serving."""

    enabled: bool = Field(default=True, description="Create the PodDisruptionBudget.")
    min_available: int = Field(default=1, ge=0, description="Replicas that must stay available during a drain.")


class Opa(_Values):
    """The OPA sidecar that evaluates the aigov policies (the bundle the aigov image ships, read-only)."""

    image: Image = Field(
        default=Image(repository="openpolicyagent/opa", tag=f"{pinned_versions()['OPA_VERSION'].lstrip('v')}-static"),
        description="OPA image; the default is the OPA version aigov is tested with.",
    )
    log_level: Literal["debug", "info", "error"] = Field(default="info", description="OPA log level.")
    resources: Resources = Field(
        default=Resources(requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "512Mi"}),
        description="OPA container resources.",
    )


class _Pod(_Values):
    """Scheduling and metadata shared by both Deployments."""

    priority_class_name: str = Field(default="", description="PriorityClass of the pods.")
    node_selector: dict[str, str] = Field(default_factory=dict, description="Node selector.")
    tolerations: list[dict[str, Any]] = Field(default_factory=list, description="Tolerations.")
    affinity: dict[str, Any] = Field(default_factory=dict, description="Affinity rules.")
    pod_annotations: dict[str, str] = Field(default_factory=dict, description="Extra pod annotations.")
    pod_labels: dict[str, str] = Field(default_factory=dict, description="Extra pod labels.")
    service_account: ServiceAccount = Field(default=ServiceAccount(), description="ServiceAccount settings.")


class Webhook(_Pod):
    """The validating admission webhook and its registration."""

    replicas: int = Field(
        default=2, ge=1, description="Webhook replicas; keep at least 2 (the API server fails closed)."
    )
    failure_policy: Literal["Fail", "Ignore"] = Field(
        default="Fail",
        description=(
            "What the API server does when the webhook cannot answer a workload: `Fail` denies. "
            "Installed as `Ignore` and set by the first ready replica, so the hook never fails closed before "
            "one answers. AISystems only get warnings, so their hook always ignores failures."
        ),
    )
    timeout_seconds: int = Field(
        default=3, ge=1, le=30, description="Seconds the API server waits for the webhook (1-30)."
    )
    opa_timeout_seconds: float = Field(
        default=1.0, gt=0, description="Seconds one OPA decision may take; keep it well below `timeoutSeconds`."
    )
    excluded_namespaces: list[str] = Field(
        default_factory=lambda: ["kube-system"],
        description="Namespaces the webhook never sees, besides the release namespace (always excluded).",
    )
    selftest_namespace: str = Field(
        default="default",
        description="Namespace where `helm test` dry-runs one ungoverned AI Deployment (denied) and one ordinary "
        "Deployment (admitted); it must exist and be enforced.",
    )
    port: int = Field(default=8443, ge=1, le=65535, description="HTTPS port of the webhook container.")
    metrics_port: int = Field(default=9090, ge=1, le=65535, description="Plain-HTTP /metrics port.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Webhook log level.")
    priority_class_name: str = Field(
        default="system-cluster-critical", description="PriorityClass; the webhook gates workloads cluster-wide."
    )
    pre_stop_sleep_seconds: int = Field(
        default=10, ge=0, description="Seconds a stopping pod keeps serving while the API server stops sending to it."
    )
    termination_grace_period_seconds: int = Field(
        default=30, ge=1, description="Pod termination grace period; must exceed `preStopSleepSeconds`."
    )
    resources: Resources = Field(
        default=Resources(requests={"cpu": "100m", "memory": "192Mi"}, limits={"memory": "512Mi"}),
        description="Webhook container resources.",
    )
    pod_disruption_budget: PodDisruptionBudget = Field(
        default=PodDisruptionBudget(), description="PodDisruptionBudget settings."
    )
    topology_spread_constraints: list[dict[str, Any]] = Field(
        default_factory=list, description="Topology spread constraints."
    )
    opa: Opa = Field(default=Opa(), description="OPA sidecar settings.")


class SecretKeyRef(_Values):
    """A key of a Secret in the release namespace."""

    name: str = Field(default="", description="Secret name.")
    key: str = Field(default="token", description="Key holding the value.")


class AlertmanagerReceiver(_Values):
    """`POST /alertmanager` on the operator: firing alerts with `namespace` and `aisystem` labels suspend systems."""

    enabled: bool = Field(default=False, description="Serve the receiver (on the operator's metrics port).")
    token_secret: SecretKeyRef = Field(
        default=SecretKeyRef(), description="The bearer token Alertmanager must send (a Secret you create)."
    )


class Operator(_Pod):
    """The kopf operator: phases, expiry, bound workloads, drift and suspension of every AISystem."""

    replicas: int = Field(
        default=1, ge=1, description="Operator replicas; extra ones stand by through kopf peering and take over."
    )
    resync_seconds: float = Field(
        default=0.0,
        ge=0,
        description="Also re-read every AISystem this often (seconds); 0: on changes and expiries only.",
    )
    liveness_port: int = Field(default=8080, ge=1, le=65535, description="Port of kopf's liveness endpoint.")
    metrics_port: int = Field(default=9090, ge=1, le=65535, description="Plain-HTTP /metrics (and /alertmanager) port.")
    prometheus_url: str = Field(
        default="",
        description="Prometheus HTTP API the drift checks query, e.g. `http://prometheus-operated.monitoring:9090`; "
        "empty leaves every check erroring.",
    )
    prometheus_timeout_seconds: float = Field(default=5.0, gt=0, description="Seconds one drift query may take.")
    alertmanager: AlertmanagerReceiver = Field(
        default=AlertmanagerReceiver(), description="The Alertmanager receiver that suspends systems."
    )
    verbose: bool = Field(default=False, description="Log debug messages.")
    resources: Resources = Field(
        default=Resources(requests={"cpu": "100m", "memory": "256Mi"}, limits={"memory": "1Gi"}),
        description="Operator container resources.",
    )


class AuditReports(_Values):
    """The policy reports the audit writes, one per namespace (docs/audit.md)."""

    openreports: bool = Field(default=True, description="Write `openreports.io/v1alpha1` Reports.")
    policy_reports: bool = Field(
        default=False, description="Also write `wgpolicyk8s.io/v1alpha2` PolicyReports (for older Policy Reporter)."
    )
    install_crds: bool = Field(
        default=True,
        alias="installCRDs",
        description="Install the CRDs of the enabled report kinds when the cluster lacks them (kept).",
    )


class Audit(_Pod):
    """The continuous audit: every existing workload judged as admission would, written as policy reports."""

    enabled: bool = Field(default=True, description="Run the audit Deployment (one replica).")
    interval_seconds: float = Field(
        default=300.0, ge=10, description="Seconds between audit rounds (an AISystem or namespace change starts one)."
    )
    qps: float = Field(default=50.0, gt=0, description="API requests per second the audit makes at most.")
    concurrency: int = Field(default=8, ge=1, description="OPA decisions in flight at most.")
    metrics_port: int = Field(default=9090, ge=1, le=65535, description="Plain-HTTP /metrics port.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", description="Audit log level.")
    reports: AuditReports = Field(default=AuditReports(), description="Report kinds.")
    resources: Resources = Field(
        default=Resources(requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "512Mi"}),
        description="Audit container resources.",
    )
    opa: Opa = Field(default=Opa(), description="OPA sidecar settings (the same policies as the webhook's).")


class CertManager(_Values):
    """Webhook TLS issued by cert-manager (a self-signed CA in the release namespace, caBundle injected)."""

    enabled: bool = Field(
        default=False,
        description="Use cert-manager; when false the webhook keeps its own CA and certificate in a Secret.",
    )
    duration: str = Field(default="8760h", description="Serving certificate lifetime.")
    renew_before: str = Field(default="720h", description="Renew the serving certificate this long before it expires.")


class Tls(_Values):
    """How the webhook gets its serving certificate."""

    cert_manager: CertManager = Field(default=CertManager(), description="cert-manager settings.")


class Crds(_Values):
    """The AISystem CRD (templated so `helm upgrade` upgrades it; kept on uninstall)."""

    install: bool = Field(default=True, description="Install and upgrade the AISystem CRD with the release.")


class Rbac(_Values):
    """ClusterRoles for people to bind."""

    user_roles: bool = Field(
        default=True, description="Create the `<release>-approver`, `-assessor` and `-viewer` ClusterRoles."
    )
    aggregate_to_view: bool = Field(
        default=True, description="Aggregate the viewer role into the built-in `view`, `edit` and `admin` roles."
    )
    config_readable_by_authenticated: bool = Field(
        default=True,
        description="Let every authenticated user read the `<release>-config` ConfigMap (and nothing else), so the "
        "CLI's status and evidence commands use the cluster's configuration. It holds no secrets.",
    )


class ServiceMonitor(_Values):
    """A Prometheus Operator ServiceMonitor for both components."""

    enabled: bool = Field(default=False, description="Create the ServiceMonitor (needs monitoring.coreos.com CRDs).")
    interval: str = Field(default="30s", description="Scrape interval.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels the Prometheus selects monitors by.")


class PrometheusRule(_Values):
    """A PrometheusRule with the alerts of `rules/*.yaml`."""

    enabled: bool = Field(default=False, description="Create the PrometheusRule (needs monitoring.coreos.com CRDs).")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels the Prometheus selects rules by.")
    disabled_alerts: list[str] = Field(default_factory=list, description="Alert names to leave out.")
    alert_labels: dict[str, str] = Field(default_factory=dict, description="Extra labels on every alert.")
    runbook_base_url: str = Field(
        default="",
        description="Where docs/runbooks.md is served (e.g. https://wiki.example.com/aigov/runbooks); every alert's "
        "runbook_url then points at its section there. Empty: the repository path docs/runbooks.md.",
    )


class GrafanaDashboard(_Values):
    """The Grafana dashboard as a ConfigMap for the Grafana sidecar."""

    enabled: bool = Field(default=False, description="Create the dashboard ConfigMap.")
    namespace: str = Field(default="", description="Namespace of the ConfigMap; empty means the release namespace.")
    labels: dict[str, str] = Field(
        default_factory=lambda: {"grafana_dashboard": "1"}, description="Labels the Grafana sidecar looks for."
    )
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations, e.g. a Grafana folder.")


class Monitoring(_Values):
    """Prometheus Operator objects and the Grafana dashboard."""

    service_monitor: ServiceMonitor = Field(default=ServiceMonitor(), description="ServiceMonitor settings.")
    prometheus_rule: PrometheusRule = Field(default=PrometheusRule(), description="PrometheusRule settings.")
    grafana_dashboard: GrafanaDashboard = Field(default=GrafanaDashboard(), description="Dashboard settings.")


_RESTRICTED_POD: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "runAsGroup": 65532,
    "fsGroup": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}
_RESTRICTED_CONTAINER: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}


class Values(_Values):
    """Values of the aigov Helm chart."""

    name_override: str = Field(default="", description="Replaces the chart name in object names.")
    fullname_override: str = Field(default="", description="Replaces `<release>-<chart>` in object names.")
    image: Image = Field(
        default=Image(repository="ghcr.io/aigov/aigov"), description="The aigov image (webhook and operator)."
    )
    image_pull_secrets: list[dict[str, str]] = Field(default_factory=list, description="Image pull secrets.")
    config: Config = Field(
        default=Config(identity=Identity(operator_usernames=())),
        description=(
            "aigov configuration (docs: aigov.core.config.Config), given to the webhook and the operator. "
            "An empty `identity.operatorUsernames` means this release's operator service account."
        ),
    )
    crds: Crds = Field(default=Crds(), description="CRD settings.")
    webhook: Webhook = Field(default=Webhook(), description="Admission webhook settings.")
    operator: Operator = Field(default=Operator(), description="Operator settings.")
    audit: Audit = Field(default=Audit(), description="Continuous audit settings.")
    tls: Tls = Field(default=Tls(), description="Webhook TLS.")
    rbac: Rbac = Field(default=Rbac(), description="RBAC settings.")
    monitoring: Monitoring = Field(default=Monitoring(), description="Monitoring settings.")
    pod_security_context: dict[str, Any] = Field(
        default_factory=lambda: dict(_RESTRICTED_POD), description="Pod security context of both Deployments."
    )
    security_context: dict[str, Any] = Field(
        default_factory=lambda: dict(_RESTRICTED_CONTAINER), description="Security context of every container."
    )
