"""A local OPA for `aigov check`: found, version-checked, serving the shipped bundle on loopback.

The binary is `--opa-binary`, else `$AIGOV_OPA`, else `opa` on PATH; any OPA 1.x
works (older than the tested version gets a note). It runs
`opa run --server --bundle DIR --authorization=basic --disable-telemetry` on
127.0.0.1 and a free port, the bundle written by `aigov.policy.bundle`, exactly
as the webhook's sidecar does. The dev stack (devkit.devcluster) builds its
command line with `server_argv`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aigov.policy.bundle import Bundle, write_bundle

TESTED_OPA_VERSION = "1.22.3"
"""The OPA aigov is tested with; equal to OPA_VERSION in hack/versions.env (a unit test checks)."""
OPA_ENV = "AIGOV_OPA"
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 30.0

HOW_TO_GET_OPA = (
    f"get OPA 1.x (tested: {TESTED_OPA_VERSION}): download the static binary from "
    f"https://github.com/open-policy-agent/opa/releases/tag/v{TESTED_OPA_VERSION} (e.g. opa_linux_amd64_static), "
    f"or `go install github.com/open-policy-agent/opa@v{TESTED_OPA_VERSION}`, and put it on PATH "
    f"(or pass --opa-binary / set ${OPA_ENV}); or use a running OPA with --opa-url"
)


class OpaProcessError(RuntimeError):
    """No usable OPA binary, or it failed to start; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class OpaBinary:
    """An `opa` executable and the version it reports."""

    path: Path
    version: tuple[int, ...]

    @property
    def note(self) -> str | None:
        """A remark when this OPA is older than the tested one, else None."""
        tested = _parse(TESTED_OPA_VERSION)
        if self.version >= tested:
            return None
        shown = ".".join(map(str, self.version))
        return f"note: {self.path} is OPA {shown}, older than the tested {TESTED_OPA_VERSION}"


def _parse(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def find_opa(explicit: Path | None = None) -> Path:
    """`explicit`, else `$AIGOV_OPA`, else `opa` on PATH; OpaProcessError saying how to get one."""
    configured = explicit or (Path(os.environ[OPA_ENV]) if os.environ.get(OPA_ENV) else None)
    if configured is not None:
        if not (configured.is_file() and os.access(configured, os.X_OK)):
            raise OpaProcessError(f"{configured} is not an executable OPA binary; {HOW_TO_GET_OPA}")
        return configured
    on_path = shutil.which("opa")
    if on_path is None:
        raise OpaProcessError(f"no `opa` found (looked at --opa-binary, ${OPA_ENV}, PATH); {HOW_TO_GET_OPA}")
    return Path(on_path)


def check_binary(path: Path) -> OpaBinary:
    """`path` with the version `opa version` reports; OpaProcessError unless it is OPA 1.x."""
    try:
        output = subprocess.run([path, "version"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise OpaProcessError(f"{path} version failed: {exc}; {HOW_TO_GET_OPA}") from exc
    match = re.search(r"^Version:\s*v?(\d+)\.(\d+)\.(\d+)", output, re.MULTILINE)
    if match is None:
        raise OpaProcessError(
            f"{path} does not look like OPA (`{path} version` said {output[:80]!r}); {HOW_TO_GET_OPA}"
        )
    binary = OpaBinary(path, tuple(int(g) for g in match.groups()))
    if binary.version[0] != 1:
        raise OpaProcessError(f"{path} is OPA {'.'.join(match.groups())}, aigov needs 1.x; {HOW_TO_GET_OPA}")
    return binary


SERVER_ENV = {"GOGC": "400"}
"""The environment OPA serves with (as the chart's sidecars): the garbage collector runs a fifth
as often, which took ~15-20% off OPA's CPU per decision and ~30-45% off its p99 evaluation time
(docs/benchmarks.md) for a heap up to five times the live one (tens of MiB)."""


def server_env() -> dict[str, str]:
    """This process's environment with `SERVER_ENV`, for an OPA server started here."""
    return os.environ | SERVER_ENV


def server_argv(binary: Path, bundle_dir: Path, port: int) -> list[str]:
    """`opa run` serving `bundle_dir` on loopback, REST writes refused by the bundle's system.authz.

    The store keeps data as evaluation values (`--optimize-store-for-read-speed`): the
    configuration is not converted again on every decision (docs/benchmarks.md).
    """
    return [
        str(binary), "run", "--server", f"--addr={LOOPBACK}:{port}", "--disable-telemetry",
        "--authorization=basic", "--optimize-store-for-read-speed", "--log-level=error", "--bundle", str(bundle_dir),
    ]  # fmt: skip


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running_opa(binary: Path, bundle: Bundle) -> Iterator[str]:
    """An OPA serving `bundle` for the block; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="aigov-opa-") as workdir:
        bundle_dir = write_bundle(bundle, Path(workdir) / "bundle")
        log_path = Path(workdir) / "opa.log"
        port = free_port()
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                server_argv(binary, bundle_dir, port),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=server_env(),
            )
        try:
            url = f"http://{LOOPBACK}:{port}"
            _wait_healthy(process, url, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text(errors="replace").strip()
            raise OpaProcessError(f"OPA exited with code {process.returncode}: {log[-2000:]}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/health", timeout=2.0) as response:
            if response.status == 200:
                return
        time.sleep(0.05)
    raise OpaProcessError(f"OPA did not answer at {url}/health within {START_TIMEOUT:.0f}s")
