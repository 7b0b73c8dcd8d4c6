"""`aigov webhook`: run the validating admission webhook (TLS) with its metrics endpoint."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvloop

from aigov.core.config import ConfigError, load_config
from aigov.webhook.app import MAX_BODY_BYTES
from aigov.webhook.server import Settings, serve

_FILE = {"exists": True, "dir_okay": False, "readable": True}


def webhook(  # noqa: PLR0917 (every parameter is a command-line option)
    cert: Annotated[Path, typer.Option("--cert", help="TLS certificate (PEM); re-read when it changes.", **_FILE)],
    key: Annotated[Path, typer.Option("--key", help="TLS private key (PEM); re-read when it changes.", **_FILE)],
    host: Annotated[str, typer.Option(help="Address the admission server listens on.")] = "0.0.0.0",
    port: Annotated[int, typer.Option(help="HTTPS port for admission, /healthz and /readyz.")] = 8443,
    metrics_host: Annotated[
        str, typer.Option(help="Address of the plain-HTTP /metrics server (docs/metrics.md).")
    ] = "0.0.0.0",
    metrics_port: Annotated[int, typer.Option(help="Plain-HTTP port for /metrics.")] = 9090,
    opa_url: Annotated[
        str,
        typer.Option(
            help="OPA server holding the aigov policy bundle written with this configuration (readiness: sha256)."
        ),
    ] = "http://127.0.0.1:8181",
    opa_timeout: Annotated[float, typer.Option(help="Seconds one OPA decision may take.")] = 1.0,
    kubeconfig: Annotated[
        Path | None, typer.Option(help="Kubeconfig; default in-cluster, else $KUBECONFIG.", **_FILE)
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="aigov configuration YAML (default $AIGOV_CONFIG, else built-in).", **_FILE)
    ] = None,
    policy_dir: Annotated[
        Path | None,
        typer.Option(help="Policies OPA must hold (default $AIGOV_POLICY_DIR, else the ones in the package)."),
    ] = None,
    max_body_bytes: Annotated[
        int, typer.Option(min=1, help="Largest AdmissionReview body accepted; larger ones get HTTP 413.")
    ] = MAX_BODY_BYTES,
    log_level: Annotated[str, typer.Option(help="Log level.")] = "INFO",
    arm_webhook_configuration: Annotated[
        str | None,
        typer.Option(
            help="Once ready, set the workloads' entries of this ValidatingWebhookConfiguration to "
            "--arm-failure-policy (the chart installs them failing open)."
        ),
    ] = None,
    arm_failure_policy: Annotated[
        str, typer.Option(help="The failurePolicy --arm-webhook-configuration sets: Fail or Ignore.")
    ] = "Fail",
) -> None:
    """Run the aigov admission webhook until SIGINT/SIGTERM."""
    if arm_failure_policy not in ("Fail", "Ignore"):
        raise typer.BadParameter("Fail or Ignore", param_hint="--arm-failure-policy")
    logging.basicConfig(
        level=log_level.upper(), stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    settings = Settings(
        cert=cert,
        key=key,
        config=loaded,
        host=host,
        port=port,
        metrics_host=metrics_host,
        metrics_port=metrics_port,
        opa_url=opa_url,
        opa_timeout=opa_timeout,
        kubeconfig=kubeconfig,
        policy_dir=policy_dir,
        max_body_bytes=max_body_bytes,
        arm_configuration=arm_webhook_configuration,
        arm_failure_policy=arm_failure_policy,
    )
    uvloop.run(serve(settings))


def register(app: typer.Typer) -> None:
    """Add `webhook` to the `aigov` command line."""
    app.command("webhook")(webhook)
