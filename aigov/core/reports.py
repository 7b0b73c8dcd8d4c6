"""Audit results as policy reports: OpenReports `Report` and the older wgpolicyk8s.io `PolicyReport`.

Pure: no I/O. The audit turns each decision into `Result`s, one namespace's
results into one report document (`report`), and the CLI and the evidence
export read the failures back (`findings`). Both formats share the result shape
(openreports.io/v1alpha1 grew out of wgpolicyk8s.io/v1alpha2).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

POLICY = "aigov"
SOURCE = "aigov"
REPORT_NAME = "aigov-audit"
MANAGED_BY = ("app.kubernetes.io/managed-by", "aigov-audit")
PASS_RULE = "AIGOV_GOVERNED"
WARNING_RULE = "AIGOV_WARNING"
UNREVIEWED_RULE = "AIGOV_UNREVIEWED_KIND"
MAX_RESULTS = 1000
"""Results kept in one report (failures first): a report is one etcd object, which holds about 1.5 MB."""

_SEVERITY = {
    "AIGOV_PROHIBITED": "critical",
    "AIGOV_UNGOVERNED": "high",
    "AIGOV_SYSTEM_NOT_FOUND": "high",
    "AIGOV_SUSPENDED": "high",
    "AIGOV_RETIRED": "high",
}


class Outcome(StrEnum):
    """A result's `result` field (the values both report formats share)."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    ERROR = "error"
    SKIP = "skip"


class Format(StrEnum):
    """Which report kind the audit writes."""

    OPENREPORTS = "openreports"
    POLICYREPORT = "policyreport"

    @property
    def api_version(self) -> str:
        """The group/version of the report kind."""
        return "openreports.io/v1alpha1" if self is Format.OPENREPORTS else "wgpolicyk8s.io/v1alpha2"

    @property
    def kind(self) -> str:
        """The report kind."""
        return "Report" if self is Format.OPENREPORTS else "PolicyReport"

    @property
    def resource(self) -> str:
        """The plural resource name of the report kind."""
        return "reports" if self is Format.OPENREPORTS else "policyreports"

    def path(self, namespace: str | None, name: str | None = None) -> str:
        """The API path of the reports in `namespace` (every namespace for None), or of one report."""
        base = f"/apis/{self.api_version}"
        scoped = f"{base}/namespaces/{namespace}/{self.resource}" if namespace else f"{base}/{self.resource}"
        return f"{scoped}/{name}" if name else scoped


@dataclass(frozen=True, slots=True)
class Subject:
    """The workload a result is about."""

    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str = ""

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> Subject:
        """The subject of a Kubernetes object."""
        meta = obj.get("metadata") or {}
        return cls(
            str(obj.get("apiVersion", "")),
            str(obj.get("kind", "")),
            str(meta.get("namespace", "")),
            str(meta.get("name", "")),
            str(meta.get("uid", "")),
        )

    def reference(self) -> dict[str, str]:
        """An ObjectReference, as the reports' `resources` hold them."""
        ref = {"apiVersion": self.api_version, "kind": self.kind, "namespace": self.namespace, "name": self.name}
        return {**ref, "uid": self.uid} if self.uid else ref


@dataclass(frozen=True, slots=True)
class Result:
    """One line of a report: a workload and one rule's outcome."""

    subject: Subject
    outcome: Outcome
    rule: str
    message: str
    severity: str = "info"
    category: str = ""
    properties: Mapping[str, str] = field(default_factory=dict)

    def document(self, now: datetime) -> dict[str, Any]:
        """The result as both report formats hold it."""
        doc: dict[str, Any] = {
            "source": SOURCE,
            "policy": POLICY,
            "rule": self.rule,
            "result": self.outcome.value,
            "severity": self.severity,
            "message": self.message,
            "scored": True,
            "timestamp": {"seconds": int(now.timestamp()), "nanos": 0},
            "resources": [self.subject.reference()],
            "properties": dict(self.properties),
        }
        if self.category:
            doc["category"] = self.category
        return doc


def decision_results(
    subject: Subject,
    violations: Iterable[tuple[str, str, str]],
    warnings: Iterable[str],
    properties: Mapping[str, str],
    waived: Iterable[tuple[str, str, str]] = (),
) -> list[Result]:
    """The results of one decision: each violation (code, message, control) a `fail`, each code an honoured
    AIGovException waived (code, exception, until) a `skip` naming the exception (its warning is not
    repeated as a `warn`), each other warning a `warn`, and a `pass` when there are none of these."""
    skips = [
        Result(
            subject,
            Outcome.SKIP,
            code,
            f"{code} waived by exception {exception} until {until}",
            "info",
            "",
            {**properties, "exception": exception, "expiresAt": until},
        )
        for code, exception, until in waived
    ]
    waiver_warnings = {f"{code} waived by" for code, _, _ in waived}
    warnings = [w for w in warnings if not any(w.startswith(prefix) for prefix in waiver_warnings)]
    results = [
        Result(
            subject,
            Outcome.FAIL,
            code,
            message,
            _SEVERITY.get(code, "medium"),
            f"ISO/IEC 42001 {control}",
            {**properties, "control": control},
        )
        for code, message, control in violations
    ]
    results += [Result(subject, Outcome.WARN, WARNING_RULE, text, "low", "", dict(properties)) for text in warnings]
    results += skips
    return results or [
        Result(subject, Outcome.PASS, PASS_RULE, "governed: admission would allow it", "info", "", dict(properties))
    ]


_ORDER = {Outcome.FAIL: 0, Outcome.ERROR: 1, Outcome.WARN: 2, Outcome.PASS: 3, Outcome.SKIP: 4}


@dataclass(slots=True)
class Tally:
    """One namespace's results as a round collects them: every outcome counted, at most `MAX_RESULTS` kept
    of the problems (fail, error, warn) and of the passes, so memory stays bounded however many workloads run."""

    summary: dict[str, int] = field(default_factory=lambda: {outcome.value: 0 for outcome in Outcome})
    problems: list[Result] = field(default_factory=list)
    passes: list[Result] = field(default_factory=list)

    def add(self, result: Result) -> None:
        """Count `result` and keep it while there is room."""
        self.summary[result.outcome.value] += 1
        kept = self.passes if result.outcome is Outcome.PASS else self.problems
        if len(kept) < MAX_RESULTS:
            kept.append(result)

    def skip(self) -> None:
        """Count a workload that is not an AI workload (not selected for evaluation)."""
        self.summary[Outcome.SKIP.value] += 1

    def results(self) -> list[Result]:
        """The kept results, problems first, at most `MAX_RESULTS`."""
        ordered = sorted(self.problems + self.passes, key=lambda r: (_ORDER[r.outcome], r.subject.kind, r.subject.name))
        return ordered[:MAX_RESULTS]


def report(fmt: Format, namespace: str, namespace_uid: str, tally: Tally, now: datetime) -> dict[str, Any]:
    """One namespace's report, owned by the namespace (it goes away with it); the summary counts every result,
    also those cut off."""
    doc: dict[str, Any] = {
        "apiVersion": fmt.api_version,
        "kind": fmt.kind,
        "metadata": {
            "name": REPORT_NAME,
            "namespace": namespace,
            "labels": {MANAGED_BY[0]: MANAGED_BY[1]},
            "annotations": {"aigov.io/audited-at": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "ownerReferences": [{"apiVersion": "v1", "kind": "Namespace", "name": namespace, "uid": namespace_uid}],
        },
        "summary": dict(tally.summary),
        "results": [r.document(now) for r in tally.results()],
    }
    if fmt is Format.OPENREPORTS:
        doc["source"] = SOURCE
    return doc


@dataclass(frozen=True, slots=True)
class Finding:
    """A failed or warned result read back from a report."""

    namespace: str
    kind: str
    name: str
    result: str
    rule: str
    severity: str
    mode: str
    aisystem: str
    message: str
    timestamp: int


def findings(reports: Iterable[Mapping[str, Any]], outcomes: Iterable[str] = ("fail", "warn")) -> Iterator[Finding]:
    """The aigov results of `reports` whose outcome is in `outcomes`, as `Finding`s."""
    wanted = set(outcomes)
    for doc in reports:
        namespace = str((doc.get("metadata") or {}).get("namespace", ""))
        for result in doc.get("results") or []:
            if result.get("policy") != POLICY or result.get("result") not in wanted:
                continue
            resource = (result.get("resources") or [{}])[0]
            properties = result.get("properties") or {}
            yield Finding(
                namespace=str(resource.get("namespace") or namespace),
                kind=str(resource.get("kind", "")),
                name=str(resource.get("name", "")),
                result=str(result.get("result")),
                rule=str(result.get("rule", "")),
                severity=str(result.get("severity", "")),
                mode=str(properties.get("mode", "")),
                aisystem=str(properties.get("aisystem", "")),
                message=str(result.get("message", "")),
                timestamp=int((result.get("timestamp") or {}).get("seconds", 0)),
            )
