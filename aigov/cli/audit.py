"""`aigov audit` (the audit's findings, from its reports), `aigov audit run` (one round) and `aigov audit-server`."""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import uvloop

from aigov.audit.decide import policy_session
from aigov.audit.scan import Options
from aigov.audit.server import Settings, run_once, serve
from aigov.cli.kube import (
    AllNamespacesOpt,
    ClusterSession,
    KubeconfigOpt,
    NamespaceOpt,
    OutputFormat,
    OutputOpt,
    cluster_command,
    failures,
    print_data,
    print_table,
)
from aigov.clients.kube import ApiError
from aigov.clients.kube_reader import KubeReader
from aigov.core.config import Config, ConfigError, load_config
from aigov.core.reports import Finding, Format, findings

_FILE = {"exists": True, "dir_okay": False, "readable": True}
_COLUMNS = ("KIND", "NAME", "RESULT", "RULE", "MODE", "AISYSTEM", "AUDITED")

audit_app = typer.Typer(help="What the continuous audit found in the workloads already running.")

ReportFormatOpt = Annotated[
    Format, typer.Option("--report-format", help="Which reports to read (the audit writes openreports by default).")
]
OpaUrlOpt = Annotated[str, typer.Option(help="OPA server the policies are loaded into.")]
ConfigOpt = Annotated[
    Path | None, typer.Option(help="aigov configuration YAML (default $AIGOV_CONFIG, else built-in).", **_FILE)
]
PolicyDirOpt = Annotated[
    Path | None, typer.Option(help="Policy directory (default $AIGOV_POLICY_DIR, else the bundled policies/).")
]
FormatsOpt = Annotated[list[Format] | None, typer.Option("--reports", help="Report kinds to write (repeat for both).")]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--exclude-namespace", help="Namespaces not audited (default: kube-system, aigov-system)."),
]
QpsOpt = Annotated[float, typer.Option(help="API requests per second at most (lists and report writes).")]
ConcurrencyOpt = Annotated[int, typer.Option(help="OPA decisions in flight at most.")]


def show(
    ctx: typer.Context,
    *,
    session: ClusterSession,
    namespace: NamespaceOpt = None,
    all_namespaces: AllNamespacesOpt = False,
    output: OutputOpt = OutputFormat.TABLE,
    report_format: ReportFormatOpt = Format.OPENREPORTS,
    everything: Annotated[bool, typer.Option("--all", help="Also the passing workloads.")] = False,
) -> None:
    """The audit's failures and warnings: AI workloads running that admission would deny now."""
    if ctx.invoked_subcommand is not None:
        return
    outcomes = ("fail", "warn", "error", "pass") if everything else ("fail", "warn", "error")
    with failures(), session.connect() as (kube, ns):
        try:
            reports = list(kube.list(report_format.path(None if all_namespaces else ns)))
        except ApiError as exc:
            if exc.status != 404:
                raise
            typer.echo(
                f"error: the cluster has no {report_format.kind} kind: install the chart with audit.enabled "
                "and audit.reports.installCRDs (docs/audit.md)",
                err=True,
            )
            raise typer.Exit(1) from None
    rows = sorted(findings(reports, outcomes), key=lambda f: (f.namespace, f.kind, f.name, f.rule))
    if output != OutputFormat.TABLE:
        print_data([asdict(f) for f in rows], output)
        return
    if not rows:
        typer.echo(f"No audit findings in {'any namespace' if all_namespaces else f'namespace {ns}'}.")
        return
    now = datetime.now(UTC).timestamp()

    def cells(f: Finding) -> list[str]:
        ago = f"{int((now - f.timestamp) // 60)}m ago" if f.timestamp else ""
        return [f.kind, f.name, f.result, f.rule, f.mode, f.aisystem or "-", ago]

    headers = ("NAMESPACE", *_COLUMNS) if all_namespaces else _COLUMNS
    print_table(headers, [[f.namespace, *cells(f)] if all_namespaces else cells(f) for f in rows])


audit_app.callback(invoke_without_command=True)(cluster_command(show))


def _load(config: Path | None) -> Config:
    try:
        return load_config(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _options(reports: list[Format] | None, exclude: list[str] | None, qps: float, concurrency: int) -> Options:
    defaults = Options()
    return Options(
        formats=tuple(dict.fromkeys(reports)) if reports else defaults.formats,
        excluded_namespaces=tuple(exclude) if exclude else defaults.excluded_namespaces,
        qps=qps,
        concurrency=concurrency,
    )


@audit_app.command("run")
def run(  # noqa: PLR0917 (every parameter is a command-line option)
    kubeconfig: KubeconfigOpt = None,
    opa_url: OpaUrlOpt = "http://127.0.0.1:8181",
    config: ConfigOpt = None,
    policy_dir: PolicyDirOpt = None,
    reports: FormatsOpt = None,
    exclude_namespace: ExcludeOpt = None,
    qps: QpsOpt = 50.0,
    concurrency: ConcurrencyOpt = 8,
) -> None:
    """Audit once: judge every existing workload, write the reports, print what was found (JSON)."""
    loaded, options = _load(config), _options(reports, exclude_namespace, qps, concurrency)

    async def once() -> dict[str, object]:
        kube = await KubeReader.connect(kubeconfig)
        try:
            async with policy_session(opa_url, 5.0, policy_dir, loaded) as decider:
                found = await run_once(kube, decider, loaded, options)
        finally:
            await kube.close()
        return {
            "workloads": found.audited,
            "violations": [
                {"code": code, "namespace": ns, "kind": kind, "count": count}
                for (code, ns, kind), count in sorted(found.violations.items())
            ],
            "unreviewedKinds": [{"group": g, "kind": k, "aiObjects": n} for (g, k), n in found.unreviewed.items()],
        }

    print_data(asyncio.run(once()), OutputFormat.JSON)


def audit_server(  # noqa: PLR0917 (every parameter is a command-line option)
    interval: Annotated[float, typer.Option(help="Seconds between rounds.")] = 300.0,
    min_gap: Annotated[float, typer.Option(help="Seconds between rounds at least (changes start one early).")] = 10.0,
    host: Annotated[str, typer.Option(help="Address of the metrics endpoint.")] = "0.0.0.0",
    metrics_port: Annotated[int, typer.Option(help="Plain-HTTP port for /metrics.")] = 9090,
    kubeconfig: KubeconfigOpt = None,
    opa_url: OpaUrlOpt = "http://127.0.0.1:8181",
    config: ConfigOpt = None,
    policy_dir: PolicyDirOpt = None,
    reports: FormatsOpt = None,
    exclude_namespace: ExcludeOpt = None,
    qps: QpsOpt = 50.0,
    concurrency: ConcurrencyOpt = 8,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO",
) -> None:
    """Run the continuous audit until SIGINT/SIGTERM."""
    logging.basicConfig(
        level=log_level.upper(), stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    settings = Settings(
        config=_load(config),
        options=_options(reports, exclude_namespace, qps, concurrency),
        interval=interval,
        min_gap=min_gap,
        host=host,
        metrics_port=metrics_port,
        opa_url=opa_url,
        kubeconfig=kubeconfig,
        policy_dir=policy_dir,
    )
    uvloop.run(serve(settings))


def register(app: typer.Typer) -> None:
    """Add `audit` and `audit-server` to the `aigov` command line."""
    app.add_typer(audit_app, name="audit")
    app.command("audit-server")(audit_server)
