"""One audit round: every existing workload judged as admission would judge its creation, one report per namespace.

Each object of every kind in the table, in every namespace the webhook covers,
becomes the dry-run CREATE request the API server would send
(`policy.input.admission_request`, user `aigov-audit`), and goes through the same
input builder and the same Rego decision as admission. The namespace's
enforcement mode is sent as `enforce`, so a `warn`, `audit` or `off` default does
not hide violations; the real mode goes into each result's properties.

Lists are paginated (memory: one page and each namespace's bounded tally),
API requests are paced (`qps`) and OPA queries bounded (`concurrency`).
Objects controlled by an owner of a reviewed kind (a Deployment's ReplicaSets
and Pods) are judged through that owner only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aigov.audit.decide import Decider
from aigov.audit.unreviewed import candidate
from aigov.clients.kube_reader import KubeReader, KubeReadError
from aigov.core import reports, workloads
from aigov.core.config import EXCEPTION_PLURAL, GROUP, PLURAL, VERSION, Config, EnforcementMode
from aigov.core.nonconformity import NC_PLURAL, for_audit
from aigov.core.reports import Format, Outcome, Result, Subject, Tally
from aigov.core.workloads import WorkloadKind
from aigov.policy import input as policy_input
from aigov.policy.decision import UNAVAILABLE
from aigov.telemetry.metrics import AuditRound

log = logging.getLogger(__name__)

FIELD_MANAGER = "aigov-audit"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


@dataclass(frozen=True)
class Options:
    """How a round reads and writes."""

    formats: tuple[Format, ...] = (Format.OPENREPORTS,)
    excluded_namespaces: tuple[str, ...] = ("kube-system", "aigov-system")
    page_size: int = 500
    qps: float = 50.0
    concurrency: int = 8
    unreviewed_kinds: bool = True


class Pacer:
    """At most `qps` API requests a second, spread evenly."""

    def __init__(self, qps: float) -> None:
        self._interval = 1.0 / qps if qps > 0 else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        """Return when the next request may go."""
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self._interval
        if delay > 0:
            await asyncio.sleep(delay)


def collection_path(kind: WorkloadKind) -> str:
    """The cluster-wide list path of `kind`."""
    base = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
    return f"{base}/{kind.resource}"


def enforcement_mode(labels: Mapping[str, str], config: Config) -> str:
    """The namespace's enforcement mode as admission reads it: its label when valid, else the default."""
    value = labels.get(config.enforcement_label, "")
    return value if value in {m.value for m in EnforcementMode} else config.default_enforcement.value


@dataclass
class _Namespace:
    uid: str
    labels: dict[str, str]
    mode: str
    tally: Tally = field(default_factory=Tally)


@dataclass
class Round:
    """The state of one round; `run` does it."""

    kube: KubeReader
    decider: Decider
    config: Config
    options: Options = field(default_factory=Options)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    namespaces: dict[str, _Namespace] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    aisystems: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    exceptions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    violations: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    unreviewed: dict[tuple[str, str], int] = field(default_factory=dict)
    audited: int = 0

    def __post_init__(self) -> None:
        self._pacer = Pacer(self.options.qps)
        self._slots = asyncio.Semaphore(self.options.concurrency)
        self._reviewed = {(k.group, k.kind) for k in self.config.kinds}

    async def _pages(self, path: str, *selectors: tuple[str, str]) -> AsyncIterator[list[dict[str, Any]]]:
        pages = self.kube.pages(path, self.options.page_size, selectors=selectors)
        while True:
            await self._pacer.wait()
            try:
                page = await anext(pages)
            except StopAsyncIteration:
                return
            yield page

    async def run(self) -> AuditRound:
        """Judge everything, write the reports, and say what was found."""
        started = time.perf_counter()
        await self._read_namespaces()
        async for page in self._pages(f"/apis/{GROUP}/{VERSION}/{PLURAL}"):
            for obj in page:
                meta = obj.get("metadata") or {}
                self.aisystems[meta.get("namespace", ""), meta.get("name", "")] = obj
        await self._read_exceptions()
        for kind in self.config.kinds:
            await self._audit_kind(kind, self.config)
        if self.options.unreviewed_kinds:
            await self._audit_unreviewed()
        for fmt in self.options.formats:
            await self._write_reports(fmt)
        return AuditRound(
            violations=dict(self.violations),
            unreviewed=dict(self.unreviewed),
            workloads=self.audited,
            duration=time.perf_counter() - started,
            finished=time.time(),
            modes=dict(self.modes),
        )

    async def _read_exceptions(self) -> None:
        """Every AIGovException by namespace: the policies decide which are honoured, as in admission."""
        try:
            async for page in self._pages(f"/apis/{GROUP}/{VERSION}/{EXCEPTION_PLURAL}"):
                for obj in page:
                    self.exceptions.setdefault(str((obj.get("metadata") or {}).get("namespace", "")), []).append(obj)
        except KubeReadError as exc:
            if exc.status != 404:  # no exception CRD installed: nothing is waived
                raise

    async def _read_namespaces(self) -> None:
        excluded = set(self.options.excluded_namespaces)
        async for page in self._pages("/api/v1/namespaces"):
            for ns in page:
                meta = ns.get("metadata") or {}
                labels = dict(meta.get("labels") or {})
                if meta.get("name") in excluded:
                    continue  # the webhook does not cover it either (install.admission's namespaceSelector)
                mode = self.modes[meta["name"]] = enforcement_mode(labels, self.config)
                if labels.get(self.config.enforcement_label) == EnforcementMode.OFF:
                    continue  # counted, not judged: the webhook does not review it
                self.namespaces[meta["name"]] = _Namespace(str(meta.get("uid", "")), labels, mode)

    async def _audit_kind(self, kind: WorkloadKind, config: Config, unreviewed: bool = False) -> int:
        """Judge every object of `kind`; the number of AI-shaped ones (for an unreviewed kind)."""
        found = 0
        try:
            async for page in self._pages(collection_path(kind)):
                judged = await asyncio.gather(*(self._judge(kind, obj, config, unreviewed) for obj in page))
                found += sum(judged)
        except KubeReadError as exc:
            if exc.status == 404:
                return found  # the kind is not installed in this cluster
            log.warning("cannot list %s: %s", kind.resource, exc)
        return found

    def _owned_by_reviewed(self, meta: Mapping[str, Any]) -> bool:
        for owner in meta.get("ownerReferences") or []:
            group, _ = workloads.split_api_version(str(owner.get("apiVersion", "")))
            if owner.get("controller") and (group, str(owner.get("kind", ""))) in self._reviewed:
                return True
        return False

    async def _judge(self, kind: WorkloadKind, obj: dict[str, Any], config: Config, unreviewed: bool) -> bool:
        meta = obj.get("metadata") or {}
        namespace = self.namespaces.get(str(meta.get("namespace", "")))
        if namespace is None or meta.get("deletionTimestamp") or self._owned_by_reviewed(meta):
            return False
        meta.pop("managedFields", None)
        obj = {**obj, "apiVersion": kind.api_group_version, "kind": kind.kind}
        name = meta["namespace"]
        request = policy_input.admission_request(obj, name, config.kinds, policy_input.AUDIT_USERNAME)
        system = policy_input.system_ref(request, config)
        labels = {**namespace.labels, config.enforcement_label: EnforcementMode.ENFORCE.value}
        document = policy_input.build(
            request,
            self.aisystems.get((name, system)) if system else None,
            policy_input.Namespace(name, labels),
            self.now,
            exceptions=self.exceptions.get(name, ()),
            extra_kinds=(kind,) if unreviewed else (),
        )
        async with self._slots:
            decision = await self.decider.decide(document)
        subject = Subject.of(obj)
        properties = {"mode": namespace.mode, **({"aisystem": system} if system else {})}
        self.audited += not unreviewed
        if any(v.code == UNAVAILABLE for v in decision.violations):
            message = decision.violations[0].message
            namespace.tally.add(Result(subject, Outcome.ERROR, UNAVAILABLE, message, "info", "", properties))
            return False
        if not decision.violations and not decision.warnings and not decision.waived and not system:
            if not unreviewed:
                namespace.tally.skip()
            return False
        if unreviewed:
            codes = ", ".join(v.code for v in decision.violations) or "labelled for aigov"
            message = (
                f"{kind.kind}.{kind.group} embeds pod templates with AI signals ({codes}) but the aigov webhook "
                "does not review this kind: add it to the configuration's extraKinds (docs/audit.md)"
            )
            namespace.tally.add(
                Result(subject, Outcome.WARN, reports.UNREVIEWED_RULE, message, "medium", "", properties)
            )
            return True
        violations = [(v.code, v.message, v.control) for v in decision.violations]
        waived = [(w.code, w.exception, w.expires_at) for w in decision.waived]
        for result in reports.decision_results(subject, violations, decision.warnings, properties, waived):
            namespace.tally.add(result)
        for violation in decision.violations:
            self.violations[violation.code, name, kind.kind] += 1
        if system and violations:
            await self._open_nonconformity(
                name, system, f"{kind.kind}/{meta['name']}", [code for code, _, _ in violations]
            )
        return True

    async def _open_nonconformity(self, namespace: str, system: str, workload: str, codes: list[str]) -> None:
        """A governed system's workload running while the system may not run opens a Nonconformity (once: the
        name is derived from the workload and the codes, and an existing one answers 409)."""
        aisystem = self.aisystems.get((namespace, system))
        if aisystem is None:
            return  # no AISystem: the Report's shadow-AI finding is the record
        tier = (aisystem.get("spec") or {}).get("riskTier")
        document = for_audit(
            namespace, system, workload, codes, now=self.now, by=policy_input.AUDIT_USERNAME, tier=tier
        )
        try:
            await self.kube.create(f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{NC_PLURAL}", document)
        except KubeReadError as exc:
            if exc.status != 409:
                log.warning("cannot open a nonconformity for %s in %s: %s", workload, namespace, exc)

    async def _audit_unreviewed(self) -> None:
        kinds: list[WorkloadKind] = []
        try:
            async for page in self._pages(CRDS):
                kinds += [k for k in (candidate(crd, self._reviewed) for crd in page) if k]
        except KubeReadError as exc:
            log.warning("cannot list CustomResourceDefinitions, unreviewed kinds are not looked for: %s", exc)
            return
        for kind in kinds:
            config = self.config.model_copy(update={"extra_kinds": (*self.config.extra_kinds, kind)})
            self.unreviewed[kind.group, kind.kind] = await self._audit_kind(kind, config, unreviewed=True)
            log.info(
                "kind %s.%s embeds pod templates (%s) and is not reviewed by the webhook",
                kind.kind,
                kind.group,
                ", ".join(kind.pod_specs),
            )

    async def _write_reports(self, fmt: Format) -> None:
        present: set[str] = set()
        try:
            async for page in self._pages(fmt.path(None), ("fieldSelector", f"metadata.name={reports.REPORT_NAME}")):
                present |= {str(r["metadata"]["namespace"]) for r in page}
        except KubeReadError as exc:
            log.warning("cannot list %s (is its CRD installed?): %s", fmt.kind, exc)
            return
        for name, namespace in sorted(self.namespaces.items()):
            if not (namespace.tally.problems or namespace.tally.passes) and name not in present:
                continue  # no AI workload (only unselected skips), and no report to bring up to date
            await self._pacer.wait()
            document = reports.report(fmt, name, namespace.uid, namespace.tally, self.now)
            try:
                await self.kube.apply(fmt.path(name, reports.REPORT_NAME), document, FIELD_MANAGER)
            except KubeReadError as exc:
                log.warning("cannot write the %s of namespace %s: %s", fmt.kind, name, exc)
        for name in sorted(present - set(self.namespaces)):
            await self._pacer.wait()
            try:  # the namespace is no longer covered (now `off`, or excluded)
                await self.kube.delete(fmt.path(name, reports.REPORT_NAME))
            except KubeReadError as exc:
                log.warning("cannot delete the stale %s of namespace %s: %s", fmt.kind, name, exc)
