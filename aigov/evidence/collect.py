"""The edge of the evidence export: read the cluster (and Prometheus) into a `Collected`.

Only `get`/`list` on AISystems, Events and workloads: a read-only kubeconfig is
enough. A kind the caller may not read becomes a warning in the pack rather than
a failure, except the AISystems themselves. Secrets are never requested.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from aigov.clients.kube import (
    ApiError,
    KubeRest,
    KubeRestError,
    aisystems_path,
    archives_path,
    events_path,
    exceptions_path,
)
from aigov.core.archive import by_system
from aigov.core.config import API_VERSION, KIND, Config
from aigov.core.management_system import MS_PLURAL
from aigov.core.nonconformity import NC_PLURAL
from aigov.core.reports import REPORT_NAME, Format, findings
from aigov.core.workloads import WorkloadKind, system_label
from aigov.evidence.collected import (
    Admissions,
    CheckSeries,
    CodeSeries,
    Collected,
    DecisionCount,
    aisystem_record,
    event_record,
    not_ai_record,
    workload_record,
)
from aigov.policy.bundle import PolicyError, read_bundle

METRIC = "aigov_admission_requests_total"
BUNDLE_METRIC = "aigov_policy_bundle_info"
VALUE_METRIC, STATE_METRIC = "aigov_drift_check_value", "aigov_drift_check_state"
DENIED = "denied"
BUCKETS = 24


class PrometheusError(KubeRestError):
    """Prometheus was asked for and could not answer."""


def _scopes(namespaces: tuple[str, ...] | None) -> tuple[str | None, ...]:
    return (None,) if namespaces is None else namespaces


def _workload_path(api_version: str, plural: str, namespace: str | None) -> str:
    base = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
    return f"{base}/namespaces/{namespace}/{plural}" if namespace else f"{base}/{plural}"


def _readable(
    kube: KubeRest, path: str, warnings: list[str], what: str, *, unserved_ok: bool = False, **params: str
) -> list[dict[str, Any]]:
    try:
        return list(kube.list(path, **params))
    except ApiError as exc:
        if unserved_ok and exc.status == 404:
            return []
        if exc.status == 404 and "/apis/" in what:
            return []  # a kind the cluster does not serve (the audit's Report CRD not installed): no gap
        warnings.append(f"{what}: not collected ({exc.reason or exc.status}: {exc.message})")
        return []


def running_bundles(url: str, at: datetime) -> list[dict[str, str]]:
    """The `{version, sha256}` of every policy bundle the running webhooks export at `at` (from Prometheus)."""
    with httpx.Client(base_url=url.rstrip("/"), timeout=30, trust_env=False) as client:
        found = _prom(client, "/api/v1/query", {"query": f"max by (version, sha256) ({BUNDLE_METRIC})",
                                                  "time": str(at.timestamp())})  # fmt: skip
    return sorted(({"version": r["metric"].get("version", ""), "sha256": r["metric"].get("sha256", "")}
                   for r in found), key=lambda b: (b["version"], b["sha256"]))  # fmt: skip


def policy_bundle(prometheus: str | None, at: datetime) -> dict[str, str]:
    """The admission policy bundle the running webhooks hold (via Prometheus), else this aigov's, with a note."""
    unread = "no --prometheus given"
    if prometheus:
        try:
            running = running_bundles(prometheus, at)
        except PrometheusError as exc:
            running, unread = [], str(exc)
        else:
            unread = f"no {BUNDLE_METRIC} in Prometheus at {prometheus}"
        if running:
            return {
                "version": ", ".join(b["version"] for b in running),
                "sha256": ", ".join(b["sha256"] for b in running),
                "source": f"{BUNDLE_METRIC} of the running webhooks, from Prometheus at {prometheus}",
            }
    note = f"the running webhooks' bundle was not read ({unread}); this is the bundle of the exporting aigov"
    try:
        bundle = read_bundle()
    except PolicyError as exc:
        return {"version": "unknown", "sha256": "", "note": f"{note}, which has none: {exc}"}
    return {"version": bundle.version, "sha256": bundle.sha256, "note": note}


def served_kinds(kube: KubeRest, kinds: Iterable[WorkloadKind]) -> list[WorkloadKind]:
    """The kinds of the table the API server serves (discovery, readable by every authenticated user):
    a custom resource whose CRD is not installed is not a gap in the evidence."""
    served: dict[str, bool] = {}
    found = []
    for entry in kinds:
        group_version = entry.api_group_version
        if group_version not in served:
            base = f"/apis/{group_version}" if entry.group else f"/api/{group_version}"
            try:
                resources = kube.get(base).get("resources") or []
                served[group_version] = True
                served.update({f"{group_version}/{r.get('name')}": True for r in resources})
            except ApiError as exc:
                if exc.status != 404:
                    raise
                served[group_version] = False
        if served.get(f"{group_version}/{entry.resource}"):
            found.append(entry)
    return found


@dataclass(frozen=True, slots=True)
class ClusterRecords:
    """What the cluster holds: AISystems, their Events by UID, labelled workloads, not-AI declarations."""

    systems: list[dict[str, Any]]
    events: dict[str, tuple[dict[str, Any], ...]]
    workloads: list[dict[str, Any]]
    not_ai: list[dict[str, Any]]
    warnings: list[str]


def collect_cluster(kube: KubeRest, namespaces: tuple[str, ...] | None, config: Config) -> ClusterRecords:
    """AISystems, their Events by UID, labelled workloads, workloads declared not AI, and warnings."""
    warnings: list[str] = []
    systems = [aisystem_record(o) for ns in _scopes(namespaces) for o in kube.list(aisystems_path(ns))]
    systems.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"].get("name", "")))
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    workloads = []
    served = served_kinds(kube, config.kinds)
    not_ai = []
    for ns in _scopes(namespaces):
        path = events_path(ns)
        for event in _readable(kube, path, warnings, f"events ({path})", fieldSelector=f"involvedObject.kind={KIND}"):
            uid = (event.get("involvedObject") or {}).get("uid")
            if uid:
                events[str(uid)].append(event_record(event))
        for entry in served:
            path = _workload_path(entry.api_group_version, entry.resource, ns)
            # Every object, not a label selector: the system label may sit on a pod template (as admission reads it).
            found = [
                {**o, "apiVersion": entry.api_group_version, "kind": entry.kind}
                for o in _readable(kube, path, warnings, f"{entry.resource} ({path})")
            ]
            workloads += [workload_record(o, config) for o in found if system_label(o, config)]
            not_ai += [record for o in found if (record := not_ai_record(o, config))]
    by_time = {uid: tuple(sorted(items, key=lambda e: str(e["time"]))) for uid, items in events.items()}
    return ClusterRecords(systems, by_time, workloads, not_ai, warnings)


def collect_ungoverned(kube: KubeRest, namespaces: tuple[str, ...] | None, warnings: list[str]) -> list[dict[str, Any]]:
    """The failures in the audit's OpenReports (none when the audit or its CRD is not installed)."""
    fmt = Format.OPENREPORTS
    found = (
        report
        for ns in _scopes(namespaces)
        for report in _readable(kube, fmt.path(ns), warnings, f"audit reports ({fmt.path(ns)})", unserved_ok=True)
        if report["metadata"].get("name") == REPORT_NAME
    )
    return [asdict(finding) for finding in findings(found, ("fail",))]


def _prom(client: httpx.Client, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    try:
        response = client.get(path, params=params)
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise PrometheusError(f"cannot query Prometheus at {client.base_url}: {exc}") from exc
    if body.get("status") != "success":
        raise PrometheusError(f"Prometheus at {client.base_url} refused {params.get('query')}: {body.get('error')}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def collect_admissions(url: str, namespaces: tuple[str, ...] | None, start: datetime, end: datetime) -> Admissions:
    """Decision counts per (decision, code) over the period, and denials per code in `BUCKETS` intervals."""
    matcher = "" if namespaces is None else '{namespace=~"' + "|".join(namespaces) + '"}'
    period = max(1, int((end - start).total_seconds()))
    step = max(1, period // BUCKETS)
    denied = (
        f'{{decision="{DENIED}"' + ("" if namespaces is None else ',namespace=~"' + "|".join(namespaces) + '"') + "}"
    )
    with httpx.Client(base_url=url.rstrip("/"), timeout=30, trust_env=False) as client:
        totals = _prom(
            client,
            "/api/v1/query",
            {
                "query": f"sum by (decision, code) (increase({METRIC}{matcher}[{period}s]))",
                "time": str(end.timestamp()),
            },
        )
        series = _range(client, f"sum by (code) (increase({METRIC}{denied}[{step}s]))", start, end, step)
    counts = tuple(
        DecisionCount(r["metric"].get("decision", ""), r["metric"].get("code", ""), round(float(r["value"][1])))
        for r in totals
        if round(float(r["value"][1])) > 0
    )
    denials = tuple(
        CodeSeries(
            r["metric"].get("code", ""),
            tuple((datetime.fromtimestamp(float(t), tz=start.tzinfo), round(float(v), 2)) for t, v in r["values"]),
        )
        for r in series
    )
    return Admissions(url, step, tuple(sorted(counts, key=lambda c: (c.decision, c.code))), denials)


def collect_nonconformities(
    kube: KubeRest, namespaces: tuple[str, ...] | None, warnings: list[str]
) -> list[dict[str, Any]]:
    """Every Nonconformity in scope (none when the CRD is not installed)."""
    found = []
    for ns in _scopes(namespaces):
        path = f"/apis/{API_VERSION}" + (f"/namespaces/{ns}" if ns else "") + f"/{NC_PLURAL}"
        found += [aisystem_record(o) for o in _readable(kube, path, warnings, f"nonconformities ({path})",
                                                        unserved_ok=True)]  # fmt: skip
    return sorted(found, key=lambda o: (o["metadata"].get("namespace", ""), str(o["spec"].get("openedAt"))))


def collect_archives(kube: KubeRest, namespaces: tuple[str, ...] | None, warnings: list[str]) -> list[dict[str, Any]]:
    """Every archived AISystem in scope, deleted ones included: identity and all its entries (parts joined)."""
    path = archives_path()
    found = by_system(_readable(kube, path, warnings, f"record archive ({path})"))
    return [
        {"namespace": ns, "name": name, "uid": uid, "entries": entries}
        for (ns, name, uid), entries in sorted(found.items())
        if namespaces is None or ns in namespaces
    ]


def collect_management_system(kube: KubeRest, warnings: list[str]) -> dict[str, Any] | None:
    """The AIManagementSystem (cluster-scoped; the first by name when there are several, with a warning)."""
    path = f"/apis/{API_VERSION}/{MS_PLURAL}"
    found = sorted(
        _readable(kube, path, warnings, f"AI management system ({path})", unserved_ok=True),
        key=lambda o: str(o["metadata"].get("name")),
    )
    if len(found) > 1:
        names = ", ".join(str(o["metadata"].get("name")) for o in found)
        warnings.append(f"several AIManagementSystems ({names}): the pack shows {found[0]['metadata'].get('name')}")
    return aisystem_record(found[0]) if found else None


def exporter_and_cluster(kube: KubeRest, warnings: list[str]) -> tuple[dict[str, Any] | None, str | None]:
    """Who exports (SelfSubjectReview: username, groups) and the cluster's UID (the kube-system namespace's)."""
    exporter = None
    try:
        info = kube.user_info()
        exporter = {"username": info["username"], "groups": sorted(info.get("groups") or [])}
    except KubeRestError as exc:
        warnings.append(f"exporter identity: not collected ({exc})")
    try:
        uid = (kube.get("/api/v1/namespaces/kube-system").get("metadata") or {}).get("uid")
    except ApiError as exc:
        warnings.append(
            f"cluster UID (namespace kube-system): not collected ({exc.reason or exc.status}: {exc.message})"
        )
        uid = None
    return exporter, uid


def _range(client: httpx.Client, query: str, start: datetime, end: datetime, step: int) -> list[dict[str, Any]]:
    first = start + timedelta(seconds=step)
    params = {"query": query, "start": str(first.timestamp()), "end": str(end.timestamp()), "step": f"{step}s"}
    return _prom(client, "/api/v1/query_range", params)


def collect_monitoring(
    url: str, namespaces: tuple[str, ...] | None, start: datetime, end: datetime
) -> tuple[CheckSeries, ...]:
    """Per drift check over the period: its values and its breached state (range queries, `BUCKETS` steps)."""
    scope = "" if namespaces is None else 'namespace=~"' + "|".join(namespaces) + '"'
    step = max(1, int((end - start).total_seconds()) // BUCKETS)
    keys = "namespace, aisystem, check"
    with httpx.Client(base_url=url.rstrip("/"), timeout=30, trust_env=False) as client:
        values = _range(client, f"max by ({keys}) ({VALUE_METRIC}{{{scope}}})", start, end, step)
        sep = "," if scope else ""
        states = _range(client, f'max by ({keys}) ({STATE_METRIC}{{{scope}{sep}state="breached"}})', start, end, step)

    def key(r: dict[str, Any]) -> tuple[str, str, str]:
        m = r["metric"]
        return (m.get("namespace", ""), m.get("aisystem", ""), m.get("check", ""))

    def points(r: dict[str, Any]) -> tuple[tuple[datetime, float], ...]:
        return tuple((datetime.fromtimestamp(float(t), tz=start.tzinfo), float(v)) for t, v in r["values"])

    by_value, by_state = {key(r): points(r) for r in values}, {key(r): points(r) for r in states}
    return tuple(
        CheckSeries(*k, step, by_value.get(k, ()), by_state.get(k, ())) for k in sorted(set(by_value) | set(by_state))
    )


def collect(
    kube: KubeRest,
    namespaces: tuple[str, ...] | None,
    *,
    config: Config,
    now: datetime,
    period: timedelta,
    prometheus: str | None,
) -> Collected:
    """Everything the pack needs, read now."""
    records = collect_cluster(kube, namespaces, config)
    warnings = list(records.warnings)
    ungoverned = collect_ungoverned(kube, namespaces, warnings)
    exceptions = [
        exc
        for ns in _scopes(namespaces)
        for exc in _readable(kube, exceptions_path(ns), warnings, f"exceptions ({exceptions_path(ns)})")
    ]
    exporter, cluster_uid = exporter_and_cluster(kube, warnings)
    management_system = collect_management_system(kube, warnings)
    nonconformities = collect_nonconformities(kube, namespaces, warnings)
    archives = collect_archives(kube, namespaces, warnings)
    start = now - period
    return Collected(
        generated_at=now,
        period_start=start,
        server=kube.target.server,
        cluster_uid=cluster_uid,
        management_system=management_system,
        nonconformities=tuple(nonconformities),
        exporter=exporter,
        namespaces=namespaces,
        systems=tuple(records.systems),
        events=records.events,
        workloads=tuple(records.workloads),
        not_ai=tuple(records.not_ai),
        policy_bundle=policy_bundle(prometheus, now),
        admissions=collect_admissions(prometheus, namespaces, start, now) if prometheus else None,
        monitoring=collect_monitoring(prometheus, namespaces, start, now) if prometheus else None,
        warnings=tuple(warnings),
        ungoverned=tuple(ungoverned),
        exceptions=tuple(exceptions),
        archives=tuple(archives),
    )
