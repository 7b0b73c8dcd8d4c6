"""aigov under faults of the control plane and of its own replicas, on a control plane of this module's own.

- kube-apiserver restarted, and etcd restarted (same data directory, ports and certificates, so
  clients reconnect): a revocation and a suspension written the moment the control plane is back
  are honoured by the webhook and the operator without restarting either, and no create in between
  is admitted on a stale cache.
- Two webhook replicas behind one `url:` (a loopback TCP balancer, as a Service would be; the API
  server takes one URL): one killed with SIGKILL under a stream of creates: errors only for the
  requests in flight, nothing ungoverned admitted.
- Two peered operator replicas: the active one killed with SIGKILL in the middle of a suspension of
  Deployments and StatefulSets; the standby finishes it (replicas recorded once, every workload at
  zero) and the resume restores them.

Each fault prints its tally (requests sent, admitted, refused, errors, ungoverned admitted).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from aigov.core.config import Config
from aigov.install.admission import Registration, UrlClient, manifests
from devkit.devcluster import ControlPlane, User
from devkit.devstack import Stack, apply, start_operator, start_webhook
from tests.e2e.conftest import own_stack
from tests.e2e.objects import (
    OPERATOR,
    aisystem,
    append_approval,
    append_assessment,
    approval,
    assessment,
    checked,
    patch_status,
    when,
    workload,
)
from tests.e2e.objects import apply as apply_in
from tests.e2e.stream import Tally, admin_client, balancing, create, stream
from tests.polling import eventually

pytestmark = pytest.mark.cluster

SYSTEM = "chat"
KINDS = {"deployment": "Deployment", "statefulset": "StatefulSet"}


@dataclass(frozen=True)
class Faults:
    """The stack and the people who write records."""

    stack: Stack
    alice: User  # assessor
    bob: User  # approver
    carol: User  # approver
    workdir: Path

    @property
    def kube(self) -> ControlPlane:
        return self.stack.cluster


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Faults]:
    """A control plane with the whole aigov stack on it (webhook, operator, record and namespace policies)."""
    workdir = tmp_path_factory.mktemp("faults")
    with own_stack(workdir) as stack:
        yield Faults(
            stack,
            stack.person("alice", "aigov-assessor", groups=("aigov:assessors",)),
            stack.person("bob", "aigov-approver", groups=("aigov:approvers",)),
            stack.person("carol", "aigov-approver", groups=("aigov:approvers",)),
            workdir,
        )


def approved_system(f: Faults) -> str:
    """A fresh namespace with an assessed, approved minimal-tier AISystem."""
    namespace = f"faults-{uuid.uuid4().hex[:6]}"
    f.kube.kubectl("create", "namespace", namespace)
    checked(apply_in(f.kube, namespace, aisystem(SYSTEM)))
    checked(append_assessment(f.kube, namespace, SYSTEM, assessment("alice"), f.alice))
    checked(append_approval(f.kube, namespace, SYSTEM, approval("bob"), f.bob))
    return namespace


def admitted(f: Faults, namespace: str) -> bool:
    """Whether one governed dry-run create is admitted now."""
    tally = Tally()
    with admin_client(f.kube) as client:
        create(client, namespace, SYSTEM, tally)
    return tally.admitted == 1


def replicas(f: Faults, namespace: str, kind: str, name: str) -> int | None:
    got = json.loads(f.kube.kubectl("get", kind, name, "-n", namespace, "-o", "json").stdout)
    value: int | None = got["spec"].get("replicas")
    return value


def suspension(f: Faults, namespace: str) -> dict[str, Any]:
    got = json.loads(f.kube.kubectl("get", "aisystem", SYSTEM, "-n", namespace, "-o", "json").stdout)
    found: dict[str, Any] = got.get("status", {}).get("suspension") or {}
    return found


def suspend(f: Faults, namespace: str) -> None:
    record = {"active": True, "since": when(0), "reason": "Manual", "suspendedBy": "bob"}
    checked(patch_status(f.kube, namespace, SYSTEM, {"suspension": record}, f.bob))


def resume(f: Faults, namespace: str) -> None:
    record = {"active": False, "resumedAt": when(0), "resumedBy": "bob", "justification": "fault test over"}
    checked(patch_status(f.kube, namespace, SYSTEM, {"suspension": record}, f.bob))


def revocation(approver: str) -> dict[str, Any]:
    return {"approver": approver, "decision": "revoked", "decidedAt": when(0), "justification": "fault test"}


@pytest.mark.parametrize("fault", ["kube-apiserver", "etcd"])
def test_a_restarted_control_plane_and_changes_made_meanwhile(faults: Faults, fault: str) -> None:
    f = faults
    namespace = approved_system(f)
    eventually(lambda: admitted(f, namespace), what="approved system admitted")
    checked(apply_in(f.kube, namespace, workload("Deployment", "web", system=SYSTEM, replicas=2)))

    restart: Callable[..., None] = f.kube.restart_apiserver if fault == "kube-apiserver" else f.kube.restart_etcd
    restart(down=3)
    # At once, before the webhook's and the operator's watches are back: revoke and suspend.
    eventually(lambda: append_approval(f.kube, namespace, SYSTEM, revocation("bob"), f.bob).returncode == 0)
    suspend(f, namespace)
    tally = Tally()
    stream(f.kube, namespace, SYSTEM, seconds=8, rate=10, workers=2, tally=tally)
    print(tally.line(f"{fault} restarted, creates after revoke+suspend"))
    assert tally.admitted == 0, tally
    assert tally.errors == 0, tally.error_samples
    assert tally.refused == tally.sent > 0

    eventually(lambda: replicas(f, namespace, "deployment", "web") == 0, 60, what="suspension honoured")
    assert suspension(f, namespace)["previousReplicas"][0]["replicas"] == 2

    checked(append_approval(f.kube, namespace, SYSTEM, approval("carol"), f.carol))
    resume(f, namespace)
    eventually(lambda: replicas(f, namespace, "deployment", "web") == 2, 60, what="resume honoured")
    eventually(lambda: admitted(f, namespace), what="the new approval honoured")
    f.stack.webhook.server.check_alive()
    f.stack.operator.check_alive()


def test_a_webhook_replica_killed_under_a_stream_of_creates(faults: Faults) -> None:
    f = faults
    namespace = approved_system(f)
    first = f.stack.webhook
    second = start_webhook(f.kube, f.workdir / f"webhook-b-{uuid.uuid4().hex[:4]}")
    config = Config()
    try:
        with balancing([first.port, second.port]) as balancer:
            url = f"https://127.0.0.1:{balancer.port}"
            apply(f.kube, manifests(Registration(UrlClient(url, first.ca_pem + second.ca_pem)), config)[-1])
            eventually(lambda: admitted(f, namespace), what="the balanced replicas answering")
            workers = 8
            tally = Tally()
            load = {"seconds": 12, "rate": 40, "workers": workers, "tally": tally}
            sender = threading.Thread(target=stream, args=(f.kube, namespace, SYSTEM), kwargs=load)
            sender.start()
            time.sleep(4)
            assert all(balancer.connections.values()), f"not both replicas in use: {balancer.connections}"
            os.killpg(second.server.process.pid, signal.SIGKILL)
            sender.join()
            print(tally.line("one of two webhook replicas killed (SIGKILL) at 4 s of 12 s, 40/s, 8 in flight at most"))
            print(f"connections per replica: {balancer.connections}")
            assert tally.ungoverned_admitted == 0, tally
            assert tally.errors <= workers, tally.error_samples
            assert tally.admitted + tally.refused + tally.errors == tally.sent
            assert tally.admitted > 0 and tally.refused > 0
    finally:
        apply(f.kube, first.registration(config)[-1])
        second.stop()


def test_the_active_operator_killed_mid_suspension(faults: Faults) -> None:
    f = faults
    namespace = approved_system(f)
    names = [("deployment", f"d{i}") for i in range(3)] + [("statefulset", f"s{i}") for i in range(3)]
    for kind, name in names:
        checked(apply_in(f.kube, namespace, workload(KINDS[kind], name, system=SYSTEM, replicas=2)))
    f.stack.operator.stop(timeout=20)
    peering = f"faults-{uuid.uuid4().hex[:6]}"
    kubeconfig = f.kube.user(OPERATOR).kubeconfig
    workdir = f.workdir / peering
    leader = start_operator(kubeconfig, workdir, f"--peering={peering}", "--priority=200", name="leader")
    standby = start_operator(kubeconfig, workdir, f"--peering={peering}", "--priority=100", name="standby")
    try:

        def bound() -> int:
            got = json.loads(f.kube.kubectl("get", "aisystem", SYSTEM, "-n", namespace, "-o", "json").stdout)
            return len(got.get("status", {}).get("boundWorkloads") or [])

        eventually(lambda: bound() == len(names), 60, what="workloads bound")
        suspend(f, namespace)
        with admin_client(f.kube) as client:

            def stopped() -> int:
                return sum(
                    client.get(f"/apis/apps/v1/namespaces/{namespace}/{kind}s/{name}").json()["spec"]["replicas"] == 0
                    for kind, name in names
                )

            at_kill = eventually(stopped, 30, interval=0.02, what="the first workload stopped")
        os.killpg(leader.process.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        print(f"active operator killed with {at_kill} of {len(names)} workloads stopped")
        eventually(lambda: all(replicas(f, namespace, k, n) == 0 for k, n in names), 150, what="standby finished")
        print(f"standby finished the suspension {time.monotonic() - killed_at:.1f} s after the kill")
        recorded = {(p["kind"], p["name"]): p["replicas"] for p in suspension(f, namespace)["previousReplicas"]}
        assert recorded == {(KINDS[k], n): 2 for k, n in names}
        resume(f, namespace)
        eventually(lambda: all(replicas(f, namespace, k, n) == 2 for k, n in names), 60, what="resumed")
        standby.check_alive()
    finally:
        leader.stop()
        standby.stop(timeout=20)
