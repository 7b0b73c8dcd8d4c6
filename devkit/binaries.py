"""Where the real server binaries are: env override, the versioned cache, then PATH.

`hack/testbin` (`make bin`) fills the cache at ``$AIGOV_CACHE/bin/<name>-<version>/<name>``
(default ``~/.cache/aigov``) with the versions pinned in ``hack/versions.env``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
_VERSIONS_FILE = _REPO / "hack" / "versions.env"

# binary name -> (environment override, version key in versions.env, Debian name when packaged)
_KNOWN: dict[str, tuple[str, str | None, str | None]] = {
    "kube-apiserver": ("AIGOV_KUBE_APISERVER", "KUBE_VERSION", None),
    "kubectl": ("AIGOV_KUBECTL", "KUBE_VERSION", None),
    "etcd": ("AIGOV_ETCD", "ETCD_VERSION", None),
    "opa": ("AIGOV_OPA", "OPA_VERSION", None),
    "helm": ("AIGOV_HELM", "HELM_VERSION", None),
    "prometheus": ("AIGOV_PROMETHEUS", None, "prometheus"),
    "promtool": ("AIGOV_PROMTOOL", None, "promtool"),
    "alertmanager": ("AIGOV_ALERTMANAGER", None, "prometheus-alertmanager"),
    "chromium": ("AIGOV_CHROMIUM", None, "chromium"),
    # Benchmark peers (hack/peers, `make bench` only).
    "gatekeeper": ("AIGOV_GATEKEEPER", "GATEKEEPER_VERSION", None),
    "kyverno": ("AIGOV_KYVERNO", "KYVERNO_VERSION", None),
    "vegeta": ("AIGOV_VEGETA", "VEGETA_VERSION", None),
}
_PEER_VERSIONS = ("GATEKEEPER_VERSION", "KYVERNO_VERSION", "VEGETA_VERSION")


class BinaryNotFoundError(RuntimeError):
    """A server binary is missing; the message says how to get it."""


def cache_dir() -> Path:
    """The binary cache (outside the repository)."""
    return Path(os.environ.get("AIGOV_CACHE", Path.home() / ".cache" / "aigov")) / "bin"


def pinned_versions() -> dict[str, str]:
    """The versions pinned in hack/versions.env (empty outside a source checkout)."""
    if not _VERSIONS_FILE.exists():
        return {}
    pairs = (line.split("=", 1) for line in _VERSIONS_FILE.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.lstrip().startswith("#")}


def find(name: str) -> Path:
    """The executable for `name`, or BinaryNotFoundError telling how to obtain it."""
    env, version_key, packaged = _KNOWN[name]
    override = os.environ.get(env)
    if override:
        path = Path(override)
        if not os.access(path, os.X_OK):
            raise BinaryNotFoundError(f"{env}={override} is not an executable file")
        return path
    pins = pinned_versions()
    version = pins.get(version_key or "")
    if version:
        # Helm's cache key also names the Kubernetes version linked in (hack/testbin's HELM_KEY).
        key = f"{version}-k8s{pins.get('KUBE_VERSION')}" if name == "helm" else version
        cached = cache_dir() / f"{name}-{key}" / name
        if os.access(cached, os.X_OK):
            return cached
    on_path = shutil.which(packaged or name)
    if on_path and (version_key is None or not version):
        return Path(on_path)
    wanted = f"{name} {version}" if version else name
    build = "`make peers` (hack/peers)" if version_key in _PEER_VERSIONS else "`make bin` (hack/testbin)"
    raise BinaryNotFoundError(f"{wanted} not found (looked at ${env}, {cache_dir()}, PATH); run {build} to build it")
