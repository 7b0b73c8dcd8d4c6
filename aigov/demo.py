"""`make demo`: a real local control plane running aigov, left up for you to try.

Starts etcd, kube-apiserver and OPA on loopback, installs the CRDs, prints the
`export KUBECONFIG=...` line and waits; Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import shutil
import signal
import sys
import threading
from pathlib import Path

from aigov.binaries import BinaryNotFoundError, cache_dir
from aigov.devcluster import ControlPlane, ServerError, start_opa

REPO = Path(__file__).resolve().parents[1]


def _say(text: str) -> None:
    print(f"\033[1m==> {text}\033[0m", flush=True)


def main() -> int:
    """Run the demo until Ctrl-C."""
    workdir = cache_dir().parent / "demo"
    shutil.rmtree(workdir, ignore_errors=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _say(f"starting etcd + kube-apiserver on 127.0.0.1 (state in {workdir})")
        with ControlPlane(workdir / "controlplane") as cluster:
            opa = start_opa(workdir / "opa")
            try:
                crds = sorted((REPO / "crds").glob("*.yaml"))
                if crds:
                    _say("installing the CRDs")
                    for crd in crds:
                        print(cluster.kubectl("apply", "--server-side", "-f", str(crd)).stdout, end="")
                _say("ready")
                print(f"\n  export KUBECONFIG={cluster.kubeconfig}\n  kubectl get ns\n")
                print(f"  API server {cluster.url}, OPA {opa.url}; logs in {workdir}")
                print("  Ctrl-C stops everything.\n", flush=True)
                stop.wait()
            finally:
                opa.server.stop()
    except KeyboardInterrupt:
        pass
    except (BinaryNotFoundError, ServerError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    _say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
