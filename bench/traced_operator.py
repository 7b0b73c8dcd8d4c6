"""`aigov …` under tracemalloc, for `bench/operator_scale.py --trace`: SIGUSR1 writes a snapshot.

    python bench/traced_operator.py SNAPSHOT_PATH operator --kubeconfig=… --standalone

The operator's modules (and the Kubernetes API classes it creates at start-up) are imported
before tracemalloc starts: traced, the imports take many minutes, and what they cost is
measured apart (`python -X importtime`, the RSS after importing). So the snapshot holds what
the operator allocates while it runs. `AIGOV_TRACE_FRAMES` frames a traceback (default 10).
On SIGUSR1 the process collects garbage and dumps a snapshot to SNAPSHOT_PATH (written to a
temporary name, then renamed, so a reader never sees half a file). Not part of the runtime
package.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

import kopf  # noqa: F401
import kubernetes

import aigov.operator.run
from aigov.cli.main import main as aigov


def main() -> None:
    target, argv = Path(sys.argv[1]), sys.argv[2:]
    for api in ("CustomObjectsApi", "CoreV1Api"):  # imported on first use
        getattr(kubernetes.client, api)
    tracemalloc.start(int(os.environ.get("AIGOV_TRACE_FRAMES", "10")))

    def dump(signum: int, frame: FrameType | None) -> None:
        gc.collect()
        partial = target.with_suffix(".partial")
        tracemalloc.take_snapshot().dump(str(partial))
        partial.rename(target)

    signal.signal(signal.SIGUSR1, dump)
    sys.argv = ["aigov", *argv]
    aigov()


if __name__ == "__main__":
    main()
