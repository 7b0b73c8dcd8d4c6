"""Integration fixtures: aigov's CRDs in the real API server and `aigov operator` running as a subprocess.

The operator runs as the identity the configuration names as the operator's
(`identity.operatorUsernames`, which the record-integrity policy recognises),
bound to exactly the ClusterRole that `aigov.install.rbac` renders, so every test also
proves that RBAC is sufficient. Its
log is attached to the report of any failing test that used it.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from aigov.core.config import Config
from aigov.install.rbac import OPERATOR_NAME, cluster_role, cluster_role_binding
from devkit import devstack
from devkit.devcluster import ControlPlane, Server, User

REPO = Path(__file__).resolve().parents[2]
AIGOV = Path(sys.executable).parent / "aigov"

_RUNNING: list[Server] = []
"""Operators started by the current test's fixtures, for the failure report."""


@pytest.fixture(scope="session")
def aigov_crds(kube: ControlPlane) -> ControlPlane:
    """The committed CRDs (AISystem and kopf peering), applied once and established."""
    kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(REPO / "crds"))
    for crd in ("aisystems.aigov.io", "aimanagementsystems.aigov.io", "nonconformities.aigov.io",
                "clusterkopfpeerings.kopf.dev", "kopfpeerings.kopf.dev"):  # fmt: skip
        kube.wait_established(f"{crd}")
    return kube


@pytest.fixture(scope="session")
def operator_user(aigov_crds: ControlPlane) -> User:
    """The operator's identity (a client certificate in its service account's name) with the rendered ClusterRole."""
    username = Config().identity.operator_usernames[0]
    subject = {"kind": "User", "name": username, "apiGroup": "rbac.authorization.k8s.io"}
    objects = {"apiVersion": "v1", "kind": "List", "items": [cluster_role(), cluster_role_binding(subject)]}
    aigov_crds.kubectl("apply", "-f", "-", input=json.dumps(objects))
    return aigov_crds.user(username, kubeconfig=aigov_crds.workdir / f"kubeconfig-{OPERATOR_NAME}")


StartOperator = Callable[..., Server]


@pytest.fixture(scope="module")
def start_operator(operator_user: User, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartOperator]:
    """Start `aigov operator` (as the operator user) with extra flags; every one is stopped at teardown."""
    started: list[Server] = []

    def start(*flags: str, name: str = "operator") -> Server:
        server = devstack.start_operator(operator_user.kubeconfig, tmp_path_factory.mktemp(name), *flags, name=name)
        started.append(server)
        _RUNNING.append(server)
        return server

    yield start
    for server in started:
        server.stop(timeout=20)
        _RUNNING.remove(server)


@pytest.fixture(scope="module")
def peering_name() -> str:
    """A peering name of the module's own, so modules never elect each other's replicas."""
    return f"aigov-test-{uuid.uuid4().hex[:8]}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the running operators' logs to a failed test's report."""
    report = yield
    if report.failed:
        for server in _RUNNING:
            report.sections.append((f"{server.name} log ({server.log_path})", server.log_tail(80)))
    return report
