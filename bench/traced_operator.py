"""`aigov …` under tracemalloc, for `bench/operator_scale.py --trace`: SIGUSR1 writes a snapshot.

    python bench/traced_operator.py SNAPSHOT_PATH operator --kubeconfig=… --standalone

The operator's modules (and the Kubernetes API classes it creates at start-up) are imported
before tracemalloc starts: traced, the imports take many minutes, and what they cost is
measured apart (`python -X importtime`, the RSS after importing). So the snapshot holds what
the operator allocates while it runs. `AIGOV_TRACE_FRAMES` frames a traceback (default 10);
0 runs the operator as `aigov` does, untraced (for `--trim-probe`).
On SIGUSR1 the process collects garbage and dumps a snapshot to SNAPSHOT_PATH (written to a
temporary name, then renamed, so a reader never sees half a file). On SIGUSR2 it collects
garbage and calls glibc's `malloc_trim(0)`, to measure how much of the resident memory is
freed heap that glibc kept. Not part of the runtime package.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType


def main() -> None:
    target, argv = Path(sys.argv[1]), sys.argv[2:]
    frames = int(os.environ.get("AIGOV_TRACE_FRAMES", "10"))
    if frames:
        import kopf  # noqa: F401, PLC0415
        import kubernetes  # noqa: PLC0415

        import aigov.operator.run  # noqa: F401, PLC0415

        for api in ("CustomObjectsApi", "CoreV1Api"):  # imported on first use
            getattr(kubernetes.client, api)
        tracemalloc.start(frames)

    def dump(signum: int, frame: FrameType | None) -> None:
        gc.collect()
        partial = target.with_suffix(".partial")
        tracemalloc.take_snapshot().dump(str(partial))
        partial.rename(target)

    def trim(signum: int, frame: FrameType | None) -> None:
        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)

    signal.signal(signal.SIGUSR1, dump)
    signal.signal(signal.SIGUSR2, trim)
    from aigov.cli.main import main as run_aigov  # noqa: PLC0415

    sys.argv = ["aigov", *argv]
    run_aigov()


if __name__ == "__main__":
    main()
