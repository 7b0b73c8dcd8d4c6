"""`aigov selftest`: one deny and one allow through the API server, by server-side dry run (the chart's `helm test`).

An ungoverned AI Deployment (a vLLM image, no system label) must be refused
with AIGOV_UNGOVERNED, and an ordinary Deployment admitted. Nothing is stored.
"""

from __future__ import annotations

from typing import Any

import typer

from aigov.cli.kube import ClusterSession, NamespaceOpt, cluster_command, failures
from aigov.clients.kube import ApiError, KubeRest

AI_IMAGE = "vllm/vllm-openai:v0.8.5"
ORDINARY_IMAGE = "nginx:1.27"
UNGOVERNED = "AIGOV_UNGOVERNED"


def deployment(name: str, image: str) -> dict[str, Any]:
    """A minimal Deployment of one container."""
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "main", "image": image}]}},
        },
    }


def _dry_run(kube: KubeRest, namespace: str, obj: dict[str, Any]) -> ApiError | None:
    """Create `obj` with a server-side dry run; the API server's refusal, or None when admitted."""
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments"
    try:
        kube.request("POST", path, params={"dryRun": "All"}, body=obj)
    except ApiError as exc:
        return exc
    return None


def problems(kube: KubeRest, namespace: str) -> list[str]:
    """What is wrong with admission in `namespace` (empty: aigov denied the AI workload and admitted the other)."""
    found = []
    refused = _dry_run(kube, namespace, deployment("aigov-selftest-ai", AI_IMAGE))
    if refused is None:
        found.append(
            f"an ungoverned AI Deployment ({AI_IMAGE}, no aigov.io/system label) was admitted in namespace "
            f"{namespace}: is the webhook configuration registered, enforcement on (config.defaultEnforcement, "
            "the namespace's aigov.io/enforcement label) and the namespace not excluded?"
        )
    elif UNGOVERNED not in refused.message:
        found.append(f"the ungoverned AI Deployment was refused, but not by aigov's {UNGOVERNED}: {refused}")
    refused = _dry_run(kube, namespace, deployment("aigov-selftest-ordinary", ORDINARY_IMAGE))
    if refused is not None:
        found.append(f"an ordinary Deployment ({ORDINARY_IMAGE}) was refused in namespace {namespace}: {refused}")
    return found


def selftest(*, session: ClusterSession, namespace: NamespaceOpt = None) -> None:
    """Check admission end to end: an ungoverned AI Deployment is denied, an ordinary one admitted (dry runs)."""
    with failures(), session.connect() as (kube, ns):
        found = problems(kube, ns)
    for problem in found:
        typer.echo(f"FAIL: {problem}", err=True)
    if found:
        raise typer.Exit(1)
    typer.echo(f"ok: namespace {ns}: an ungoverned AI Deployment is denied ({UNGOVERNED}), an ordinary one admitted")


def register(app: typer.Typer) -> None:
    """Add `selftest` to the `aigov` command line."""
    app.command("selftest")(cluster_command(selftest))
