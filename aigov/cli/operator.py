"""`aigov operator`: run the kopf operator that keeps every AISystem's status true.

kopf is imported only when the command runs, so other commands stay quick to start.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from aigov.core.config import ConfigError, load_config


def operator(
    *,
    kubeconfig: Annotated[
        Path | None,
        typer.Option(
            help="Kubeconfig to use; default: in-cluster service account, else $KUBECONFIG or ~/.kube/config."
        ),
    ] = None,
    namespace: Annotated[
        list[str] | None,
        typer.Option("--namespace", "-n", help="Serve only this namespace (repeatable)."),
    ] = None,
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="Serve every namespace (the default).")
    ] = False,
    peering: Annotated[str, typer.Option(help="kopf peering name: replicas sharing it elect one to act.")] = "aigov",
    standalone: Annotated[bool, typer.Option("--standalone", help="Run without peering (one replica only).")] = False,
    priority: Annotated[
        int | None, typer.Option(help="Peering priority; the highest live replica acts. Default: random.")
    ] = None,
    liveness: Annotated[
        str | None, typer.Option(help="Serve a liveness probe here, e.g. http://127.0.0.1:8080/healthz.")
    ] = None,
    resync: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Also re-read every AISystem at least this often, in seconds; 0: only on changes and expiries.",
        ),
    ] = 0.0,
    worker_limit: Annotated[
        int,
        typer.Option(min=0, help="kopf workers per watched kind at once (bounds the start-up memory); 0: no limit."),
    ] = 64,
    config: Annotated[Path | None, typer.Option(help="aigov configuration file (YAML); default $AIGOV_CONFIG.")] = None,
    prometheus_url: Annotated[
        str | None,
        typer.Option(envvar="AIGOV_PROMETHEUS_URL", help="Prometheus HTTP API the drift checks query."),
    ] = None,
    prometheus_timeout: Annotated[float, typer.Option(min=0.1, help="Seconds one drift query may take.")] = 5.0,
    metrics_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Serve GET /metrics (and POST /alertmanager) on this port.")
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Address the metrics port binds.")] = "0.0.0.0",
    alertmanager_token_file: Annotated[
        Path | None,
        typer.Option(help="Enable POST /alertmanager, requiring the bearer token in this file."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log debug messages.")] = False,
) -> None:
    """Run the operator: phases, conditions, expiries, Events, bound workloads, drift checks and suspensions."""
    import kopf  # noqa: PLC0415  (slow to import; only this command needs it)

    from aigov.operator.monitoring import MonitoringOptions  # noqa: PLC0415
    from aigov.operator.run import Options, run  # noqa: PLC0415

    if namespace and all_namespaces:
        raise typer.BadParameter("give --namespace or --all-namespaces, not both")
    try:
        settings = load_config(config)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--config") from exc
    kopf.configure(verbose=verbose, log_prefix=True)
    run(
        Options(
            config=settings,
            kubeconfig=kubeconfig,
            namespaces=tuple(namespace or ()),
            peering=peering,
            standalone=standalone,
            priority=priority,
            liveness=liveness,
            resync_seconds=resync,
            worker_limit=worker_limit or None,
            monitoring=MonitoringOptions(
                prometheus_url=prometheus_url,
                prometheus_timeout=prometheus_timeout,
                metrics_host=metrics_host,
                metrics_port=metrics_port,
                alertmanager_token_file=alertmanager_token_file,
            ),
        )
    )


def lean_imports() -> None:
    """In the operator's own process only (`aigov.cli.main.main`), before kopf is imported: hide kubernetes_asyncio.

    kopf imports kubernetes_asyncio's client, when installed, only to recognise its model
    objects in `kopf.adopt()` and the like, which the operator never calls with them; that
    import alone costs about 30 MiB of resident memory. The operator does not use the
    package (the webhook and the audit do, in their own processes), so it is marked as
    missing (a `None` in `sys.modules` makes its import raise ImportError).
    """
    if "kopf" not in sys.modules:
        sys.modules.setdefault("kubernetes_asyncio", None)  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    """Add `operator` to the `aigov` command line."""
    app.command("operator")(operator)
