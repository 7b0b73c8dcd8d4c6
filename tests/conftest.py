"""Fixtures over the real servers that `devkit.devcluster` starts on loopback.

Servers start lazily, once per session, only for the tests that ask for them.
A missing binary fails the test with the command that builds it: CI has them,
so nothing here skips.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.devcluster import ControlPlane, OpaServer, PrometheusServer, start_opa, start_prometheus

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    """A real etcd + kube-apiserver for the whole session."""
    with ControlPlane(tmp_path_factory.mktemp("controlplane")) as cluster:
        yield cluster


@pytest.fixture
def namespace(kube: ControlPlane, request: pytest.FixtureRequest) -> str:
    """A fresh namespace per test (namespaces never finish deleting here, so names are unique)."""
    slug = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-")
    name = f"t-{slug}-{uuid.uuid4().hex[:6]}"
    kube.kubectl("create", "namespace", name)
    return name


@pytest.fixture(scope="session")
def opa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpaServer]:
    """A real OPA server holding the shipped policy bundle, REST writes refused (as in the chart)."""
    server = start_opa(tmp_path_factory.mktemp("opa"))
    yield server
    server.server.stop()


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A real Prometheus scraping whatever `set_targets` names, every second."""
    server = start_prometheus(tmp_path_factory.mktemp("prometheus"))
    yield server
    server.server.stop()
