"""`aigov check`: the admission decision for manifests, offline, for CI.

Each workload in the manifests becomes the CREATE request the API server would
send, built by the same `aigov.policy.input` as the webhook's and decided by a
real OPA (`--opa-url`, else one started for the run from `--opa-binary`,
`$AIGOV_OPA` or PATH, serving the bundle shipped in the package with the
`--config` configuration as its data). Input with no
workload is an error unless `--allow-empty` (a failed `helm template` piped in
must not pass). Exit codes (docs/cli.md): 0 all allowed, 1 any denied, 2 bad
input or usage, 3 cannot decide (no policies, no OPA).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from aigov.cli import check_report, manifests
from aigov.cli import exception as exception_files
from aigov.cli.check_report import Format, Result
from aigov.cli.kube import ClusterSession, choice, cluster_command
from aigov.cli.manifests import Manifest, ManifestError
from aigov.clients.kube import Connection, KubeRest, KubeRestError, aisystems_path
from aigov.core import workloads
from aigov.core.config import API_VERSION, KIND, Config, ConfigError, load_config
from aigov.policy import input as policy_input
from aigov.policy import opa_process
from aigov.policy.bundle import Bundle, PolicyError, read_bundle
from aigov.policy.decision import UNAVAILABLE

EXIT_ALLOWED, EXIT_DENIED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3


class CheckError(Exception):
    """Bad input or usage (exit 2)."""


class OpaUnavailableError(Exception):
    """No OPA to decide with, or one without the aigov bundle (exit 3)."""


def parse_labels(text: str) -> dict[str, str]:
    """`k=v,k2=v2` as a dict."""
    labels: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CheckError(f"--namespace-labels: {pair!r} is not key=value")
        labels[key] = value
    return labels


def parse_now(text: str | None) -> datetime:
    """`--now` (RFC 3339) or the current time."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CheckError(f"--now: {text!r} is not an RFC 3339 time like 2026-01-31T12:00:00Z") from None
    if value.tzinfo is None:
        raise CheckError(f"--now: {text!r} has no time zone (add Z or an offset)")
    return value


def _namespace_of(obj: dict[str, Any], default: str) -> str:
    namespace = (obj.get("metadata") or {}).get("namespace")
    return namespace if isinstance(namespace, str) and namespace else default


def _is_aisystem(obj: dict[str, Any]) -> bool:
    return obj.get("apiVersion") == API_VERSION and obj.get("kind") == KIND


def is_workload(obj: dict[str, Any], config: Config) -> bool:
    """Whether the webhook would review `obj`: its kind is in the kinds table (`aigov.core.workloads`)."""
    return workloads.of_object(config.kinds, obj) is not None


def aisystem_index(objects: Sequence[dict[str, Any]], default_namespace: str) -> dict[tuple[str, str], dict[str, Any]]:
    """AISystems by (namespace, name); later objects win."""
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for obj in objects:
        name = (obj.get("metadata") or {}).get("name")
        if isinstance(name, str):
            index[(_namespace_of(obj, default_namespace), name)] = obj
    return index


def cluster_aisystems(namespaces: set[str], connection: Connection) -> list[dict[str, Any]]:
    """The AISystems in `namespaces`, read with kubectl's connection options (default: the current kubeconfig)."""
    try:
        with KubeRest.open(connection) as kube:
            return [obj for ns in sorted(namespaces) for obj in kube.list(aisystems_path(ns))]
    except KubeRestError as exc:
        raise CheckError(f"--cluster: cannot read AISystems with the current kubeconfig: {exc}") from exc


@contextlib.contextmanager
def opa_server(url: str | None, binary: Path | None, bundle: Bundle) -> Iterator[str]:
    """`url`, or a local OPA serving `bundle`, started for the block."""
    if url:
        yield url
        return
    try:
        found = opa_process.check_binary(opa_process.find_opa(binary))
        if found.note:
            typer.echo(f"aigov check: {found.note}", err=True)
        with opa_process.running_opa(found.path, bundle) as local:
            yield local
    except opa_process.OpaProcessError as exc:
        raise OpaUnavailableError(f"OPA unavailable: {exc}") from exc


async def decide_all(
    url: str,
    bundle: Bundle,
    *,
    workloads: Sequence[tuple[Manifest, str]],
    systems: dict[tuple[str, str], dict[str, Any]],
    namespace_labels: dict[str, str],
    config: Config,
    now: datetime,
    exceptions: Mapping[str, Sequence[dict[str, Any]]] | None = None,
) -> list[Result]:
    """Decide every workload, in order, with the OPA at `url` once it holds `bundle`."""
    from aigov.policy import opa as policy  # noqa: PLC0415  (the OPA client pulls in aiohttp)

    async with policy.PolicyClient(url, bundle=bundle) as client:
        reason = await client.unready_reason()
        if reason is not None:
            raise OpaUnavailableError(
                f"OPA unavailable: {reason}. An OPA for aigov serves the shipped bundle: "
                "`python -m aigov.policy.bundle --out DIR --config FILE` then `opa run --server --bundle DIR`"
            )
        results = []
        for manifest, namespace in workloads:
            request = policy_input.admission_request(manifest.obj, namespace, config.kinds)
            ref = policy_input.system_ref(request, config)
            aisystem = systems.get((namespace, ref)) if ref else None
            document = policy_input.build(
                request,
                aisystem,
                policy_input.Namespace(namespace, namespace_labels),
                now,
                exceptions=(exceptions or {}).get(namespace, ()),
            )
            results.append(Result(manifest, namespace, await client.decide(document)))
        return results


def exit_code(results: Sequence[Result]) -> int:
    """3 when OPA gave no decision, 1 when anything is denied, else 0."""
    if any(v.code == UNAVAILABLE for r in results for v in r.decision.violations):
        return EXIT_UNAVAILABLE
    return EXIT_DENIED if any(not r.decision.allowed for r in results) else EXIT_ALLOWED


@dataclass(frozen=True)
class Inputs:
    """Which files `check` reads and how strictly."""

    paths: Sequence[str]
    exclude: Sequence[str] = ()
    strict: bool = False
    allow_empty: bool = False


def _no_workload(inputs: Inputs, loaded: manifests.Loaded) -> str:
    read = f"{len(loaded.manifests)} object(s) in {loaded.inputs} input(s)"
    return (
        f"no workload found in {', '.join(inputs.paths)} ({read}, none a kind the webhook reviews); "
        "is the input empty because rendering failed? Pass --allow-empty if no workload is expected"
    )


def run(
    inputs: Inputs,
    *,
    aisystem_paths: Sequence[str],
    cluster: Connection | None,
    namespace: str,
    namespace_labels: str,
    now: str | None,
    output: Format,
    opa_url: str | None,
    config_path: Path | None,
    opa_binary: Path | None = None,
    exception_paths: Sequence[str] = (),
) -> int:
    """The whole check; returns the exit code, printing the report and any error."""
    try:
        config = load_config(config_path)
        labels = parse_labels(namespace_labels)
        moment = parse_now(now)
        loaded = manifests.load(inputs.paths, exclude=inputs.exclude, strict=inputs.strict)
        for note in loaded.skipped:
            typer.echo(f"aigov check: {note}", err=True)
        documents = loaded.manifests
        extra = [m.obj for m in manifests.load(aisystem_paths).manifests if _is_aisystem(m.obj)]
        if aisystem_paths and not extra:
            raise CheckError(f"--aisystems: no {KIND} objects in {', '.join(aisystem_paths)}")
        workloads = [(m, _namespace_of(m.obj, namespace)) for m in documents if is_workload(m.obj, config)]
        if not workloads and not inputs.allow_empty:
            raise CheckError(_no_workload(inputs, loaded))
        systems = [m.obj for m in documents if _is_aisystem(m.obj)] + extra
        if cluster:
            systems += cluster_aisystems({ns for _, ns in workloads}, cluster)
        index = aisystem_index(systems, namespace)
        waivers = exception_files.from_files(exception_paths, namespace)
        skipped = len(documents) - len(workloads)
        results: list[Result] = []
        if workloads:
            bundle = read_bundle(config=config)
            with opa_server(opa_url, opa_binary, bundle) as url:
                results = asyncio.run(
                    decide_all(
                        url,
                        bundle,
                        workloads=workloads,
                        systems=index,
                        namespace_labels=labels,
                        config=config,
                        now=moment,
                        exceptions=waivers,
                    )
                )
    except (ConfigError, ManifestError, CheckError) as exc:
        typer.echo(f"aigov check: {exc}", err=True)
        return EXIT_USAGE
    except PolicyError as exc:
        typer.echo(f"aigov check: {exc}", err=True)
        return EXIT_UNAVAILABLE
    except OpaUnavailableError as exc:
        typer.echo(f"aigov check: {exc}", err=True)
        return EXIT_UNAVAILABLE
    check_report.render(output, results, skipped, sys.stdout, moment)
    return exit_code(results)


def check(
    paths: Annotated[list[str], typer.Argument(metavar="PATH", help="YAML/JSON files or directories; - reads stdin.")],
    *,
    session: ClusterSession,
    aisystems: Annotated[
        list[str] | None,
        typer.Option("--aisystems", help="Files or directories with AISystem objects (status included)."),
    ] = None,
    cluster: Annotated[
        bool, typer.Option("--cluster", help="Read the AISystems from the cluster of the current kubeconfig.")
    ] = False,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Namespace of objects that name none (default: default).")
    ] = None,
    namespace_labels: Annotated[
        str, typer.Option("--namespace-labels", help="Labels of the namespace, k=v,...: select the mode.")
    ] = "",
    now: Annotated[
        str | None, typer.Option("--now", envvar="AIGOV_NOW", help="Judge at this RFC 3339 time instead of now.")
    ] = None,
    output: Annotated[Format, typer.Option("--output", "-o", help="Report format.", **choice(Format))] = Format.TABLE,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude", help="Skip files matching this glob (repeatable), e.g. 'charts/*' or '*.values.yaml'."
        ),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse non-Kubernetes YAML and Helm chart sources instead of skipping.")
    ] = False,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Pass when the input holds no workload (default: exit 2).")
    ] = False,
    opa_url: Annotated[
        str | None,
        typer.Option(
            "--opa-url",
            help="Use this OPA server (serving the aigov bundle written with this --config) instead of starting one.",
        ),
    ] = None,
    opa_binary: Annotated[
        Path | None,
        typer.Option("--opa-binary", help="OPA executable to start (default: $AIGOV_OPA, then opa on PATH)."),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="aigov configuration file (default: $AIGOV_CONFIG).")
    ] = None,
    exceptions: Annotated[
        list[str] | None,
        typer.Option("--exceptions", help="Files or directories with AIGovException objects (status included)."),
    ] = None,
) -> None:
    """Decide manifests as the admission webhook would: 0 allowed, 1 denied, 2 bad input or no workload,
    3 cannot decide (no policies, no OPA)."""
    code = run(
        Inputs(paths, exclude=exclude or (), strict=strict, allow_empty=allow_empty),
        aisystem_paths=aisystems or [],
        cluster=session.connection if cluster else None,
        namespace=namespace or "default",
        namespace_labels=namespace_labels,
        now=now,
        output=output,
        opa_url=opa_url,
        config_path=config,
        opa_binary=opa_binary,
        exception_paths=exceptions or [],
    )
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add `check` to the `aigov` command line."""
    app.command("check")(cluster_command(check, cluster_flag=False))
