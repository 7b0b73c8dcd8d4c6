"""`aigov assess|approve|revoke|suspend|resume|retire`: governance records, written as the calling user.

Each command learns who the kubeconfig authenticates as (a SelfSubjectReview),
reads the AISystem, builds the status patch (`aigov.core.records`) and sends it to
the status subresource. The API server binds the record to that identity and
refuses what the caller may not do; its message is printed and the exit code
is 1. A write that races another one is rebuilt from a fresh read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import typer

from aigov.cli.kube import (
    ClusterSession,
    NamespaceOpt,
    OutputFormat,
    OutputOpt,
    choice,
    cluster_command,
    duration,
    failures,
    patch_status,
    print_data,
)
from aigov.clients.kube import aisystems_path
from aigov.core.config import GROUP
from aigov.core.digests import placeholder
from aigov.core.model import ResidualRisk
from aigov.core.records import (
    Patch,
    approval_patch,
    assessment_patch,
    resume_patch,
    retirement_patch,
    revocation_patch,
    suspension_patch,
)

Builder = Callable[[Mapping[str, Any], str, datetime], Patch]

NameArg = Annotated[str, typer.Argument(help="The AISystem's name.")]
Justification = Annotated[str, typer.Option("--justification", help="Why (kept in the record).")]


def _write(cluster: ClusterSession, name: str, build: Builder, *, field: str, fmt: OutputFormat, verb: str) -> None:
    """Read, build, patch as the caller; retry on a concurrent write; print the record written."""
    with failures(), cluster.connect() as (kube, namespace):
        user = kube.whoami()
        updated = patch_status(
            kube,
            aisystems_path(namespace, name),
            lambda obj: build(obj, user, datetime.now(UTC).replace(microsecond=0)),
        )
    record = (updated.get("status") or {}).get(field)
    if isinstance(record, list):
        record = record[-1]
    if fmt == OutputFormat.TABLE:
        typer.echo(f"aisystem.{GROUP}/{name} {verb} by {user}")
    else:
        print_data(record, fmt)


def _document(file: Path | None, reference: str | None, sha256: str | None) -> tuple[str, str]:
    """The assessment's (reference, sha256): computed from `file`, else as typed (a placeholder warns)."""
    if file is not None:
        try:
            with file.open("rb") as document:
                computed = hashlib.file_digest(document, "sha256").hexdigest()
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {file}: {exc.strerror}", param_hint="--file") from exc
        if sha256 is not None and sha256.lower() != computed:
            raise typer.BadParameter(f"{file} has SHA-256 {computed}, not {sha256}", param_hint="--sha256")
        sha256, reference = computed, reference or file.resolve().as_uri()
    if sha256 is None:
        raise typer.BadParameter("give the document (--file) or its SHA-256 (--sha256)", param_hint="--file")
    if len(sha256) != 64 or any(c not in "0123456789abcdefABCDEF" for c in sha256):
        raise typer.BadParameter("must be 64 hexadecimal digits", param_hint="--sha256")
    if reference is None:
        raise typer.BadParameter("the document's URI is needed with --sha256", param_hint="--reference")
    if not urlparse(reference).scheme:
        raise typer.BadParameter(f"{reference!r} is not a URI (e.g. https://…)", param_hint="--reference")
    reason = placeholder(sha256)
    if reason is not None:
        typer.echo(
            f"Warning: --sha256 looks like a placeholder ({reason}), not the document's digest; "
            "give the document with --file to have it computed",
            err=True,
        )
    return reference, sha256


def assess(
    name: NameArg,
    *,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="The assessment document: its SHA-256 is computed (and its URI is the reference)."),
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="URI of the impact assessment document (default: the file's).")
    ] = None,
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="SHA-256 of the document (64 hex digits), when not given --file.")
    ] = None,
    residual_risk: Annotated[
        ResidualRisk, typer.Option("--residual-risk", help="Residual risk accepted.", **choice(ResidualRisk))
    ],
    expires: Annotated[
        timedelta | None,
        typer.Option(
            "--expires", parser=duration, metavar="DURATION", help="Validity, e.g. 365d (required unless --rejected)."
        ),
    ] = None,
    rejected: Annotated[bool, typer.Option("--rejected", help="Record the assessment as rejected.")] = False,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Append an impact assessment (ISO/IEC 42001 A.5.2, A.5.3) as the calling user; earlier ones are kept."""
    if expires is None and not rejected:
        raise typer.BadParameter("a completed assessment needs --expires (e.g. 365d)", param_hint="--expires")
    document, digest = _document(file, reference, sha256)

    def build(obj: Mapping[str, Any], user: str, now: datetime) -> Patch:
        return assessment_patch(
            obj,
            assessor=user,
            now=now,
            reference=document,
            sha256=digest,
            residual_risk=residual_risk,
            expires_in=expires,
            rejected=rejected,
        )

    verb = "assessment rejected" if rejected else "assessed"
    _write(session, name, build, field="assessments", fmt=output, verb=verb)


def approve(
    name: NameArg,
    *,
    role: Annotated[str, typer.Option("--role", help="Your governance role, e.g. risk-officer.")],
    expires: Annotated[
        timedelta, typer.Option("--expires", parser=duration, metavar="DURATION", help="Validity, e.g. 180d.")
    ],
    justification: Justification,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Approve the system's current spec (its hash and images) and assessment as the calling user."""

    def build(obj: Mapping[str, Any], user: str, now: datetime) -> Patch:
        return approval_patch(obj, approver=user, now=now, role=role, expires_in=expires, justification=justification)

    _write(
        session,
        name,
        build,
        field="approvals",
        fmt=output,
        verb=f"approved as {role}",
    )


def suspend(
    name: NameArg,
    *,
    reason: Annotated[str, typer.Option("--reason", help="Why the system is suspended.")],
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    output: OutputOpt = OutputFormat.TABLE,
) -> None:
    """Suspend the system: the operator scales its workloads to zero and admission refuses new ones."""

    def build(obj: Mapping[str, Any], user: str, now: datetime) -> Patch:
        return suspension_patch(obj, user=user, now=now, reason=reason)

    _write(session, name, build, field="suspension", fmt=output, verb="suspended")


def _justified(builder: Callable[..., Patch], command: str, *, field: str, verb: str, doc: str) -> Callable[..., None]:
    """A command writing one justified record as the calling user: `builder(obj, user=, now=, justification=)`."""

    def write(
        name: NameArg,
        *,
        justification: Justification,
        session: ClusterSession,
        namespace: NamespaceOpt = None,
        output: OutputOpt = OutputFormat.TABLE,
    ) -> None:
        def build(obj: Mapping[str, Any], user: str, now: datetime) -> Patch:
            return builder(obj, user=user, now=now, justification=justification)

        _write(session, name, build, field=field, fmt=output, verb=verb)

    write.__name__ = write.__qualname__ = command
    write.__doc__ = doc
    return write


revoke = _justified(
    lambda obj, *, user, now, justification: revocation_patch(obj, approver=user, now=now, justification=justification),
    "revoke",
    field="approvals",
    verb="approval revoked",
    doc="Withdraw your approval of the system.",
)
resume = _justified(
    resume_patch,
    "resume",
    field="suspension",
    verb="resumed",
    doc="Resume a suspended system: the operator restores the replicas it recorded.",
)
retire = _justified(
    retirement_patch,
    "retire",
    field="retirement",
    verb="retired",
    doc="Retire the system as the calling approver (final): its workloads may not run, and it may be deleted.",
)


def register(app: typer.Typer) -> None:
    """Add the record commands to the `aigov` command line."""
    for command in (assess, approve, revoke, suspend, resume, retire):
        app.command(command.__name__)(cluster_command(command))
