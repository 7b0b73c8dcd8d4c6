# syntax=docker/dockerfile:1
# The one aigov image, used by both deployables of charts/aigov:
#   aigov webhook ...                          the admission webhook (OPA runs beside it, its own image)
#   python -m aigov.policy.bundle --out DIR    writes the policy bundle OPA serves (an init container)
#   aigov operator ...                         the kopf operator
#   python -m aigov.webhook.certrotation ...   the webhook's self-managed TLS sidecar
# This machine has no container engine, so CI does not build it; docs/install.md shows how.

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# --- build: a virtualenv with aigov and its dependencies (all have wheels: no compiler needed) -----
# The wheel carries the Rego policies as package data (setup.py copies policies/ without tests).
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/aigov
COPY pyproject.toml setup.py README.md ./
COPY aigov ./aigov
COPY policies ./policies
RUN /opt/aigov/bin/pip install . \
 && /opt/aigov/bin/pip uninstall --yes pip \
 && /opt/aigov/bin/python -m compileall -q /opt/aigov/lib

# --- runtime: only the virtualenv (aigov with its policies); no pip, no build tools, not root ------
FROM ${PYTHON_IMAGE}
RUN python -m pip uninstall --yes pip setuptools wheel 2>/dev/null || true
COPY --from=build /opt/aigov /opt/aigov
ENV PATH=/opt/aigov/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 65532:65532
ENTRYPOINT ["aigov"]
CMD ["--help"]
