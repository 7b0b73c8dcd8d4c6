"""The environment `aigov operator` runs with: the chart's operator container, devkit and the benchmarks set it.

`PYTHONMALLOC=malloc`: every Python object comes from glibc's malloc instead of
Python's own arenas. A start-up over many AISystems holds every listed object at
once (kopf reads the listing whole and queues each object for its worker); what
outlives that burst (kopf's per-object memory, aigov's queues) is scattered across
the heap. A Python arena (1 MiB) goes back to the system only when every object in
it is gone; with glibc the once-a-minute `malloc_trim(0)` (`aigov.operator.heap`)
hands back each free 4 KiB page. Measured at 10,000 AISystems: 240 MiB idle against
265 MiB (docs/benchmarks.md, "Operator at scale"). Set before the interpreter
starts, so it is the process's environment, not something the operator sets itself.

`MALLOC_ARENA_MAX=2`: the status writes run in a thread pool and glibc gives each
thread an arena of its own (up to eight per core), each holding freed memory apart
from the others: 233 MiB with both against 240 with malloc alone.
"""

from __future__ import annotations

import os

OPERATOR_ENV = {"PYTHONMALLOC": "malloc", "MALLOC_ARENA_MAX": "2"}


def operator_env() -> dict[str, str]:
    """This process's environment with `OPERATOR_ENV`, for an operator started here."""
    return os.environ | OPERATOR_ENV
