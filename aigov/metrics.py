"""Every aigov Prometheus metric, defined once; the webhook and the operator import them from here.

Labels stay bounded: codes, kinds, modes and namespaces, never image or user names.
docs/metrics.md describes each metric.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# Admission latency buckets, in seconds, up to the webhook's default timeout (3 s).
ADMISSION_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)

ADMISSION_REQUESTS = Counter(
    "aigov_admission_requests_total",
    'Admission decisions; a request counts once per violation code, or once with code="" when it has none.',
    ["decision", "code", "kind", "namespace", "mode"],
)
ADMISSION_DURATION = Histogram(
    "aigov_admission_duration_seconds",
    "Time from receiving an AdmissionReview to answering it.",
    buckets=ADMISSION_BUCKETS,
)
POLICY_EVALUATION_DURATION = Histogram(
    "aigov_policy_evaluation_duration_seconds",
    "Time of one policy decision by OPA, failures included.",
    buckets=ADMISSION_BUCKETS,
)
POLICY_ERRORS = Counter(
    "aigov_policy_errors_total",
    "Policy decisions that failed (OPA unreachable, timed out, or policies missing) and so denied.",
)
AISYSTEM_CACHE_SIZE = Gauge(
    "aigov_aisystem_cache_size",
    "AISystems held in the webhook's watch cache.",
)
