"""The aigov validating admission webhook (FastAPI over TLS)."""
