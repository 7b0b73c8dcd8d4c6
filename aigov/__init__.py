"""aigov: ISO/IEC 42001 governance for AI workloads on Kubernetes.

The shared domain lives here (model, configuration, lifecycle, policy input);
the two deployables are `aigov.operator` (kopf) and `aigov.webhook` (FastAPI).
"""

__version__ = "0.1.0"
