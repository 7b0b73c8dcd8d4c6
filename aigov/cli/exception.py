"""`kubectl aigov exception request|break-glass|approve|revoke|list`, and exceptions read from files.

Requests and records are written as the calling user (a SelfSubjectReview says who):
the API server's exception record policy (`aigov.install.exception_policy`) binds
them to that identity and refuses what the caller may not do; its message is
printed and the exit code is 1. `aigov check --exceptions PATH` reads exceptions
with `from_files` (docs/exceptions.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from aigov.cli import manifests
from aigov.cli.kube import (
    AllNamespacesOpt,
    ClusterSession,
    NamespaceOpt,
    OutputFormat,
    OutputOpt,
    cluster_command,
    duration,
    failures,
    patch_status,
    print_data,
    print_table,
)
from aigov.clients.kube import exceptions_path
from aigov.core import exceptions
from aigov.core.config import API_VERSION, EXCEPTION_KIND, GROUP, load_config
from aigov.core.exceptions import ExceptionAction, ExceptionRecord, ExceptionSpec, Selector
from aigov.core.model import rfc3339

app = typer.Typer(help="Time-bound, approved exceptions to aigov's admission rules.", no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help="The exception's name.")]
CommentOpt = Annotated[str, typer.Option("--justification", help="Why (kept in the record).")]


def from_files(paths: Sequence[str], default_namespace: str) -> dict[str, list[dict[str, Any]]]:
    """The AIGovExceptions in `paths` by namespace (e.g. `kubectl get aigovexceptions -o yaml` output).

    Only objects as the API server stores them can be honoured: with `metadata.creationTimestamp`
    and `status.records`. `manifests.ManifestError` when `paths` hold none.
    """
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for manifest in manifests.load(paths).manifests:
        obj = manifest.obj
        if obj.get("apiVersion") == API_VERSION and obj.get("kind") == EXCEPTION_KIND:
            metadata = {**(obj.get("metadata") or {})}
            metadata.setdefault("namespace", default_namespace)
            found[str(metadata["namespace"])].append({**obj, "metadata": metadata})
    if paths and not found:
        raise manifests.ManifestError(f"--exceptions: no {EXCEPTION_KIND} objects in {', '.join(paths)}")
    return dict(found)


def _selector(labels: Sequence[str]) -> Selector | None:
    pairs = [label.partition("=") for label in labels]
    if any(not key or not sep for key, sep, _ in pairs):
        raise typer.BadParameter("labels are key=value", param_hint="--selector")
    return Selector(match_labels={key: value for key, _, value in pairs}) if pairs else None


def _create(cluster: ClusterSession, name: str, spec: dict[str, Any], expires: timedelta, fmt: OutputFormat) -> None:
    with failures(), cluster.connect() as (kube, namespace):
        user = kube.whoami()
        now = datetime.now(UTC).replace(microsecond=0)
        try:
            body = ExceptionSpec.model_validate({**spec, "requestedBy": user, "expiresAt": rfc3339(now + expires)})
        except ValidationError as exc:
            raise typer.BadParameter("; ".join(e["msg"] for e in exc.errors())) from None
        created = kube.request(
            "POST", exceptions_path(namespace), body=exceptions.request_object(name, namespace, body)
        )
    if fmt == OutputFormat.TABLE:
        kind = "break-glass exception" if body.break_glass else "exception"
        typer.echo(f"aigovexception.{GROUP}/{name} requested by {user} ({kind} until {created['spec']['expiresAt']})")
    else:
        print_data(created, fmt)


Codes = Annotated[list[str], typer.Option("--code", help="A violation code to waive (repeatable).")]
System = Annotated[str | None, typer.Option("--system", help="The AISystem whose workloads are covered.")]
SelectorOpt = Annotated[
    list[str] | None, typer.Option("--selector", "-l", help="A label key=value the workloads carry (repeatable).")
]
Ticket = Annotated[str, typer.Option("--ticket", help="Ticket or change reference.")]


def request(
    name: NameArg,
    *,
    code: Codes,
    justification: CommentOpt,
    ticket: Ticket,
    expires: Annotated[
        timedelta, typer.Option("--expires", parser=duration, metavar="DURATION", help="Validity, e.g. 7d.")
    ],
    system: System = None,
    selector: SelectorOpt = None,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Request an exception; it waives nothing until an approver other than you approves it."""
    spec = {"system": system, "selector": _selector(selector or []), "codes": code}
    spec |= {"justification": justification, "ticket": ticket}
    _create(session, name, spec, expires, output)


def break_glass(
    name: NameArg,
    *,
    code: Codes,
    justification: CommentOpt,
    ticket: Ticket,
    system: System = None,
    selector: SelectorOpt = None,
    expires: Annotated[
        timedelta | None,
        typer.Option("--expires", parser=duration, metavar="DURATION", help="Validity (default: the maximum)."),
    ] = None,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Grant an emergency exception alone (on-call group only), in force at once for a few hours."""
    spec = {"system": system, "selector": _selector(selector or []), "codes": code, "breakGlass": True}
    spec |= {"justification": justification, "ticket": ticket}
    hours = timedelta(hours=load_config().exceptions.break_glass_hours)
    _create(session, name, spec, expires or hours, output)


def _append(
    cluster: ClusterSession, name: str, action: ExceptionAction | None, comment: str, fmt: OutputFormat
) -> None:
    """Read, append a record by the caller (approve: `approved`, or `reviewed` for break-glass), patch."""
    with failures(), cluster.connect() as (kube, namespace):
        user = kube.whoami()
        written: list[ExceptionRecord] = []

        def build(obj: dict[str, Any]) -> list[dict[str, Any]]:
            chosen = action or exceptions.grant_action(exceptions.parse(obj))
            record = ExceptionRecord(
                action=chosen, by=user, at=datetime.now(UTC).replace(microsecond=0), comment=comment
            )
            written[:] = [record]
            return exceptions.record_patch(obj, record)

        patch_status(kube, exceptions_path(namespace, name), build)
        [record] = written
        chosen = record.action
    if fmt == OutputFormat.TABLE:
        typer.echo(f"aigovexception.{GROUP}/{name} {chosen.value} by {user}")
    else:
        print_data(record.to_dict(), fmt)


def approve(
    name: NameArg,
    *,
    justification: CommentOpt,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Approve an exception (approvers other than the requester); for break-glass, record the review."""
    _append(session, name, None, justification, output)


def revoke(
    name: NameArg,
    *,
    justification: CommentOpt,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Revoke an exception at once (its requester, an approver or the on-call group)."""
    _append(session, name, ExceptionAction.REVOKED, justification, output)


def list_(
    *,
    all_namespaces: AllNamespacesOpt = False,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """The exceptions with their state now (computed from the records and the time)."""
    policy, now = load_config().exceptions, datetime.now(UTC)
    with failures(), session.connect() as (kube, ns):
        items = [exceptions.parse(obj) for obj in kube.list(exceptions_path(None if all_namespaces else ns))]
    rows: list[dict[str, Any]] = [
        {
            "namespace": exc.metadata.namespace or "",
            "name": exc.name,
            "state": exceptions.state(exc, policy, now).value,
            "expiresAt": rfc3339(expiry) if (expiry := exceptions.effective_expiry(exc, policy)) else "",
            "system": exc.spec.system or "",
            "codes": list(exc.spec.codes),
            "requestedBy": exc.spec.requested_by,
            "approvedBy": exceptions.reviewer(exc) if exc.spec.break_glass else exceptions.approver(exc),
            "breakGlass": exc.spec.break_glass,
        }
        for exc in items
    ]
    if output != OutputFormat.TABLE:
        print_data(rows, output)
        return
    headers = ["NAMESPACE", "NAME", "STATE", "EXPIRES", "SYSTEM", "CODES", "REQUESTED BY", "APPROVED/REVIEWED BY"]
    print_table(
        headers,
        [
            [
                r["namespace"],
                r["name"],
                r["state"],
                r["expiresAt"],
                r["system"],
                ",".join(r["codes"]),
                r["requestedBy"],
                r["approvedBy"] or ("review pending" if r["breakGlass"] else "-"),
            ]
            for r in rows
        ],
    )


for _command, _name in (
    (request, "request"),
    (break_glass, "break-glass"),
    (approve, "approve"),
    (revoke, "revoke"),
    (list_, "list"),
):
    app.command(_name)(cluster_command(_command))


def register(root: typer.Typer) -> None:
    """Add `exception` to the `aigov` command line."""
    root.add_typer(app, name="exception")
