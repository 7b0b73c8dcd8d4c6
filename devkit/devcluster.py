"""A real local control plane on loopback: etcd, kube-apiserver, OPA, Prometheus.

Started the way controller-runtime's envtest starts it (no controller-manager,
scheduler or kubelet: no Pods run and namespaces never finish deleting), for the
integration tests and `make demo`. Every server binds to 127.0.0.1 on a free
port, logs to its own file under the work directory, and is stopped with its
whole process group, so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

import httpx
import yaml

from aigov.install.pki import CertificateAuthority, KeyPair, rsa_signing_key_pem
from aigov.policy.bundle import Bundle, read_bundle, write_bundle
from aigov.policy.opa_process import server_argv, server_env
from devkit import binaries

LOOPBACK = "127.0.0.1"


class ServerError(RuntimeError):
    """A server failed to start; the message carries the tail of its log."""


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """One child process with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @classmethod
    def start(
        cls, name: str, argv: Sequence[str | Path], workdir: Path, env: Mapping[str, str] | None = None
    ) -> Server:
        """Start `argv` in its own process group, output to `<workdir>/<name>.log` (`env`: else this one's)."""
        log_path = workdir / f"{name}.log"
        log = log_path.open("ab")
        process = subprocess.Popen(
            [str(arg) for arg in argv],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=workdir,
            env=env,
        )
        return cls(name, process, log_path, log)

    def log_tail(self, lines: int = 25) -> str:
        """The last lines of the server's log."""
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def check_alive(self) -> None:
        """Raise ServerError (with the log) when the process has exited."""
        if self.process.poll() is not None:
            raise ServerError(
                f"{self.name} exited with code {self.process.returncode}; log {self.log_path}:\n{self.log_tail()}"
            )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, SIGKILL it if it lingers."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def processes_in(workdir: Path) -> dict[int, int]:
    """Live processes whose working directory is `workdir` or below it (pid -> process group), from /proc.

    Every `Server` runs in its work directory, so this finds the servers a run
    started, even ones a killed run left behind.
    """
    root = str(workdir.resolve())
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            cwd = str((entry / "cwd").readlink()).removesuffix(" (deleted)")
            if cwd == root or cwd.startswith(root + os.sep):
                found[int(entry.name)] = os.getpgid(int(entry.name))
    return found


def stop_process_groups(groups: set[int], timeout: float = 10.0) -> None:
    """SIGTERM each process group, SIGKILL the ones still there after `timeout`."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for group in groups:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(group, sig)
        deadline = time.monotonic() + timeout
        while groups and time.monotonic() < deadline:
            groups = {group for group in groups if _group_alive(group)}
            time.sleep(0.1)
        if not groups:
            return


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_until(server: Server, probe: httpx.Client, url: str, timeout: float) -> None:
    """Poll `url` until it answers 200, the server dies, or `timeout` passes."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        server.check_alive()
        try:
            response = probe.get(url, timeout=2.0)
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = str(exc) or type(exc).__name__
        time.sleep(0.1)
    raise ServerError(f"{server.name} not ready at {url} after {timeout:.0f}s ({last}); log:\n{server.log_tail()}")


@dataclass
class OpaServer:
    """A running `opa run --server`."""

    server: Server
    port: int

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8181."""
        return f"http://{LOOPBACK}:{self.port}"


def start_opa(workdir: Path, port: int | None = None, bundle: Bundle | None = None) -> OpaServer:
    """Start OPA as the chart's sidecar runs: serving `bundle` (default the shipped one), REST writes refused.

    The bundle is written to `<workdir>/bundle` (replacing one written before); wait for /health.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    bundle_dir = write_bundle(bundle or read_bundle(), workdir / "bundle")
    port = port or free_port()
    server = Server.start("opa", server_argv(binaries.find("opa"), bundle_dir, port), workdir, server_env())
    opa = OpaServer(server, port)
    try:
        with httpx.Client() as probe:
            wait_until(server, probe, f"{opa.url}/health", 30)
    except BaseException:
        server.stop()
        raise
    return opa


@contextlib.contextmanager
def run_opa(workdir: Path) -> Iterator[OpaServer]:
    """An OPA server with the shipped bundle for the duration of the block."""
    opa = start_opa(workdir)
    try:
        yield opa
    finally:
        opa.server.stop()


@dataclass
class PrometheusServer:
    """A running Prometheus that scrapes the targets listed in its file_sd file."""

    server: Server
    port: int
    targets_file: Path

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://{LOOPBACK}:{self.port}"

    def set_targets(self, targets: Sequence[str], labels: dict[str, str] | None = None) -> None:
        """Replace the scraped targets (host:port on loopback); Prometheus picks them up on its own."""
        entry = [{"targets": list(targets), "labels": labels or {}}]
        tmp = self.targets_file.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(entry))
        tmp.replace(self.targets_file)


def start_prometheus(workdir: Path, scrape_interval: str = "1s", rule_files: Sequence[Path] = ()) -> PrometheusServer:
    """Start Prometheus with a generated config: one file_sd job, optional rule files."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    targets = workdir / "targets.yml"
    targets.write_text("[]\n")
    config = {
        "global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {
                "job_name": "aigov-test",
                "scrape_interval": scrape_interval,
                "file_sd_configs": [{"files": [str(targets)], "refresh_interval": "1s"}],
            }
        ],
    }
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    server = Server.start(
        "prometheus",
        [
            binaries.find("prometheus"),
            f"--config.file={config_path}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{port}",
            "--web.enable-lifecycle",
            "--log.level=warn",
        ],
        workdir,
    )
    prometheus = PrometheusServer(server, port, targets)
    try:
        with httpx.Client() as probe:
            wait_until(server, probe, f"{prometheus.url}/-/ready", 60)
    except BaseException:
        server.stop()
        raise
    return prometheus


class GaugeExporter:
    """An HTTP exporter on loopback serving one gauge per case (`metric{case="..."}`), values set in code.

    Stands in for a team's drift exporter in the tests and the demo.
    """

    def __init__(self, metric: str = "aigov_test_drift") -> None:
        self.metric = metric
        self.values: dict[str, float] = {}
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                samples = [f'{metric}{{case="{k}"}} {v}' for k, v in list(exporter.values.items())]
                body = "\n".join([f"# TYPE {metric} gauge", *samples, ""]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        """host:port to scrape."""
        return f"{LOOPBACK}:{self.server.server_address[1]}"

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()

    def query(self, case: str) -> str:
        """The PromQL a check uses for `case`."""
        return f'max({self.metric}{{case="{case}"}})'

    def set(self, case: str, value: float | None, prometheus_url: str, timeout: float = 15.0) -> None:
        """Serve `value` for `case` (None: no series) and wait until Prometheus answers the query with it."""
        if value is None:
            self.values.pop(case, None)
        else:
            self.values[case] = value
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": self.query(case)}).json()
            result = answer["data"]["result"]
            if (not result) if value is None else bool(result) and float(result[0]["value"][1]) == value:
                return
            time.sleep(0.2)
        raise RuntimeError(f"Prometheus did not see {self.query(case)} = {value} within {timeout:.0f}s")


@dataclass
class User:
    """A client-certificate identity against the local API server."""

    name: str
    groups: tuple[str, ...]
    kubeconfig: Path


class ControlPlane:
    """etcd + kube-apiserver with client-certificate auth and RBAC.

    The admin is `aigov-admin` in `system:masters`; `user()` mints further
    identities (CN = user, O = groups) for tests of identity-bound records.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pki_dir = workdir / "pki"
        self.ca = CertificateAuthority("aigov-dev-ca")
        self.etcd: Server | None = None
        self.apiserver: Server | None = None
        self.port = 0
        self.kubeconfig = workdir / "kubeconfig"
        self._argv: dict[str, list[str | Path]] = {}

    @property
    def url(self) -> str:
        """The API server's URL."""
        return f"https://{LOOPBACK}:{self.port}"

    @property
    def ca_file(self) -> Path:
        """The CA that signs the API server's and the users' certificates."""
        return self.pki_dir / "ca.crt"

    def _write(self, name: str, data: bytes) -> Path:
        path = self.pki_dir / name
        path.write_bytes(data)
        path.chmod(0o600)
        return path

    def start(self) -> None:
        """Start etcd, then the API server; return once /readyz answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.pki_dir.mkdir(exist_ok=True)
        try:
            self._start_etcd()
            self._start_apiserver()
        except BaseException:
            self.stop()
            raise

    def _start_etcd(self) -> None:
        client, peer = free_port(), free_port()
        self.etcd_url = f"http://{LOOPBACK}:{client}"
        self._argv["etcd"] = [
            binaries.find("etcd"),
            "--name=aigov-dev",
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={self.etcd_url}",
            f"--advertise-client-urls={self.etcd_url}",
            f"--listen-peer-urls=http://{LOOPBACK}:{peer}",
            f"--initial-advertise-peer-urls=http://{LOOPBACK}:{peer}",
            f"--initial-cluster=aigov-dev=http://{LOOPBACK}:{peer}",
            "--unsafe-no-fsync",
            "--log-level=warn",
        ]
        self._run_etcd()

    def _run_etcd(self) -> None:
        self.etcd = Server.start("etcd", self._argv["etcd"], self.workdir)
        with httpx.Client() as probe:
            wait_until(self.etcd, probe, f"{self.etcd_url}/health", 60)

    def _start_apiserver(self) -> None:
        ca = self.ca.pair
        self._write("ca.crt", ca.cert_pem)
        serving = self.ca.serving(("localhost", LOOPBACK))
        sa_private, sa_public = rsa_signing_key_pem()
        self.port = free_port()
        self._argv["kube-apiserver"] = [
            binaries.find("kube-apiserver"),
            f"--etcd-servers={self.etcd_url}",
            f"--cert-dir={self.pki_dir}",
            f"--secure-port={self.port}",
            f"--bind-address={LOOPBACK}",
            f"--advertise-address={LOOPBACK}",
            "--endpoint-reconciler-type=none",
            "--disable-admission-plugins=ServiceAccount",
            "--authorization-mode=RBAC",
            "--allow-privileged=true",
            "--service-cluster-ip-range=10.96.0.0/24",
            f"--client-ca-file={self.ca_file}",
            f"--tls-cert-file={self._write('apiserver.crt', serving.cert_pem)}",
            f"--tls-private-key-file={self._write('apiserver.key', serving.key_pem)}",
            f"--service-account-key-file={self._write('sa.pub', sa_public)}",
            f"--service-account-signing-key-file={self._write('sa.key', sa_private)}",
            f"--service-account-issuer=https://{LOOPBACK}:{self.port}",
            "--v=1",
        ]
        self.user("aigov-admin", ("system:masters",), kubeconfig=self.kubeconfig)
        self._run_apiserver()

    def _run_apiserver(self) -> None:
        self.apiserver = Server.start("kube-apiserver", self._argv["kube-apiserver"], self.workdir)
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        ctx.load_cert_chain(self.pki_dir / "aigov-admin.crt", self.pki_dir / "aigov-admin.key")
        with httpx.Client(verify=ctx) as probe:
            wait_until(self.apiserver, probe, f"{self.url}/readyz", 120)

    def restart_apiserver(self, down: float = 0.0) -> None:
        """Stop the API server, wait `down` seconds, start it again: same port, certificates and keys."""
        assert self.apiserver is not None, "not started"
        self.apiserver.stop()
        time.sleep(down)
        self._run_apiserver()

    def restart_etcd(self, down: float = 0.0) -> None:
        """Stop etcd, wait `down` seconds, start it again on its data directory and ports (the API server stays)."""
        assert self.etcd is not None, "not started"
        self.etcd.stop()
        time.sleep(down)
        self._run_etcd()

    def user(self, name: str, groups: tuple[str, ...] = (), kubeconfig: Path | None = None) -> User:
        """A kubeconfig for a client-certificate user (CN=name, O=groups)."""
        pair: KeyPair = self.ca.client(name, groups)
        slug = name.replace(":", "_")  # kubeconfig paths are ':'-separated lists to client libraries
        cert = self._write(f"{slug}.crt", pair.cert_pem)
        key = self._write(f"{slug}.key", pair.key_pem)
        path = kubeconfig or self.workdir / f"kubeconfig-{slug}"
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "aigov-dev",
                    "cluster": {"server": self.url, "certificate-authority": str(self.ca_file)},
                }
            ],
            "users": [{"name": name, "user": {"client-certificate": str(cert), "client-key": str(key)}}],
            "contexts": [{"name": f"{name}@aigov-dev", "context": {"cluster": "aigov-dev", "user": name}}],
            "current-context": f"{name}@aigov-dev",
        }
        path.write_text(yaml.safe_dump(config))
        path.chmod(0o600)
        return User(name, groups, path)

    def wait_established(self, crd: str, timeout: float = 120) -> None:
        """Until the CRD is Established; `kubectl wait` is retried, since on a loaded machine it can fail
        before the API server has served the new CRD once."""
        deadline = time.monotonic() + timeout
        while True:
            waited = self.kubectl("wait", "--for=condition=Established", "--timeout=30s", f"crd/{crd}", check=False)
            if waited.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"CRD {crd} not Established within {timeout:.0f} s: {waited.stderr.strip()}")
            time.sleep(1)

    def kubectl(
        self, *args: str, user: User | None = None, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the pinned kubectl against this cluster (as the admin, or as `user`)."""
        kubeconfig = user.kubeconfig if user else self.kubeconfig
        result = subprocess.run(
            [str(binaries.find("kubectl")), f"--kubeconfig={kubeconfig}", *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout, result.stderr)
        return result

    def stop(self) -> None:
        """Stop the API server, then etcd."""
        for server in (self.apiserver, self.etcd):
            if server is not None:
                server.stop()

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
