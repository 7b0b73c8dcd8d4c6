"""Streams of server-side dry-run creates through the real API server, tallied; and a loopback TCP balancer.

A create is *admitted* (201), *refused* (the webhook or a policy denied it: the API
server's 4xx names the webhook) or an *error* (anything else: a timeout, a 5xx, a
refusal that is not a decision). A governed workload and an ungoverned model server
alternate, so every stream is mixed; an ungoverned one admitted is counted apart.
"""

from __future__ import annotations

import contextlib
import itertools
import select
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import httpx

from devkit.devcluster import LOOPBACK, ControlPlane
from tests.e2e.objects import workload


def admin_client(kube: ControlPlane, timeout: float = 15.0) -> httpx.Client:
    """An HTTP/1.1 client of the API server as the admin (client certificate)."""
    ctx = ssl.create_default_context(cafile=str(kube.ca_file))
    ctx.load_cert_chain(kube.pki_dir / "aigov-admin.crt", kube.pki_dir / "aigov-admin.key")
    return httpx.Client(base_url=kube.url, verify=ctx, timeout=timeout)


@dataclass
class Tally:
    """What a stream of creates got."""

    sent: int = 0
    admitted: int = 0
    refused: int = 0
    errors: int = 0
    ungoverned_admitted: int = 0
    error_samples: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, governed: bool, status: int | None, body: str) -> None:
        """Count one answer (`status` None: no HTTP answer at all)."""
        with self._lock:
            self.sent += 1
            if status == 201:
                self.admitted += 1
                self.ungoverned_admitted += not governed
            elif status in (400, 403) and "denied the request" in body:
                self.refused += 1
            else:
                self.errors += 1
                if len(self.error_samples) < 5:
                    self.error_samples.append(f"{status}: {body[:300]}")

    def line(self, name: str) -> str:
        """One printable line for the test log and the report."""
        return (
            f"{name}: sent={self.sent} admitted={self.admitted} refused={self.refused} errors={self.errors} "
            f"ungoverned_admitted={self.ungoverned_admitted}"
        )


def create(client: httpx.Client, namespace: str, system: str | None, tally: Tally) -> None:
    """One dry-run Deployment create: governed by `system`, or an ungoverned model server when None."""
    doc = workload("Deployment", f"w-{uuid.uuid4().hex[:10]}", system=system)
    try:
        response = client.post(f"/apis/apps/v1/namespaces/{namespace}/deployments", params={"dryRun": "All"}, json=doc)
    except httpx.HTTPError as exc:
        tally.add(system is not None, None, f"{type(exc).__name__}: {exc}")
        return
    tally.add(system is not None, response.status_code, response.text)


def stream(
    kube: ControlPlane, namespace: str, system: str, *, seconds: float, rate: float, workers: int, tally: Tally
) -> None:
    """Send creates at up to `rate` per second for `seconds` from `workers` threads, alternating governed and not.

    A worker that falls behind sends back to back, and stops at the end all the same.
    """
    interval = workers / rate
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        with admin_client(kube) as client:
            due = time.monotonic() + offset * interval / workers
            for n in itertools.count(offset):
                if max(due, time.monotonic()) >= stop:
                    return
                time.sleep(max(0.0, due - time.monotonic()))
                create(client, namespace, system if n % 2 == 0 else None, tally)
                due += interval

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class Balancer:
    """A loopback TCP balancer: each connection goes to the next backend that accepts it (round robin).

    It stands in for a Service whose endpoints drop a dead Pod: a backend that refuses a
    connection is skipped, while connections already open to it break with it. TLS passes through.
    """

    def __init__(self, backends: Sequence[int]) -> None:
        self.backends = list(backends)
        self._next = itertools.cycle(range(len(self.backends)))
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self.connections: dict[int, int] = dict.fromkeys(self.backends, 0)
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _connect(self) -> socket.socket | None:
        for _ in self.backends:
            port = self.backends[next(self._next)]
            with contextlib.suppress(OSError):
                upstream = socket.create_connection((LOOPBACK, port), timeout=2)
                self.connections[port] += 1
                return upstream
        return None

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        upstream = self._connect()
        if upstream is None:
            client.close()
            return
        upstream.settimeout(None)
        with client, upstream:
            pair = {client: upstream, upstream: client}
            while True:
                readable, _, _ = select.select(list(pair), [], [], 60)
                if not readable:
                    return
                for sock in readable:
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    try:
                        pair[sock].sendall(data)
                    except OSError:
                        return

    def close(self) -> None:
        """Stop accepting."""
        self._closed = True
        self._listener.close()


@contextlib.contextmanager
def balancing(backends: Sequence[int]) -> Iterator[Balancer]:
    """A `Balancer` for the duration of the block."""
    balancer = Balancer(backends)
    try:
        yield balancer
    finally:
        balancer.close()
