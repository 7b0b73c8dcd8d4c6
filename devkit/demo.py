"""`make demo`: a real local control plane running aigov, admitting and denying real deployments.

Starts etcd, kube-apiserver, OPA, the aigov webhook and operator on loopback,
then walks through the governance story with real `kubectl` calls: an
ungoverned model server is refused; a registered one is refused until an
assessor records the impact assessment and an approver approves (as
themselves, through `kubectl aigov`); then it is admitted. Everything stays up
for you to try; Ctrl-C or SIGTERM stops every server it started.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from devkit.binaries import BinaryNotFoundError, cache_dir, find
from devkit.devcluster import (
    ControlPlane,
    GaugeExporter,
    PrometheusServer,
    ServerError,
    User,
    processes_in,
    start_prometheus,
    stop_process_groups,
)
from devkit.devstack import REPO, Stack, start_stack

NAMESPACE = "demo"
SYSTEM = "support-chatbot"
ASSESSOR_GROUP, APPROVER_GROUP = "aigov:assessors", "aigov:approvers"
DRIFT_METRIC = "chatbot_answer_psi"
DRIFT_CHECK = (
    '{"spec":{"monitoring":{"intervalSeconds":10,"checks":[{"name":"answer-drift",'
    f'"query":"max({DRIFT_METRIC})","comparator":">","threshold":0.25,"for":"10s","action":"suspend"}}]}}}}}}'
)


def _say(text: str) -> None:
    print(f"\n\033[1;34m==> {text}\033[0m", flush=True)


class Shell:
    """Runs and shows commands the way a person would type them (`kubectl`, `kubectl aigov`)."""

    def __init__(self, cluster: ControlPlane, workdir: Path) -> None:
        bindir = workdir / "bin"
        bindir.mkdir(exist_ok=True)
        (bindir / "kubectl").symlink_to(find("kubectl"))
        (bindir / "kubectl-aigov").symlink_to(Path(sys.executable).parent / "kubectl-aigov")
        self.path = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
        self.admin = cluster.kubeconfig

    def run(self, command: str, as_user: User | None = None, expect_ok: bool = True) -> bool:
        """Print `command` (with who runs it), run it, print its output; True when it succeeded."""
        who = as_user.name if as_user else "admin"
        print(f"\033[2m[{who}]\033[0m $ {command}", flush=True)
        env = os.environ | {"PATH": self.path, "KUBECONFIG": str(as_user.kubeconfig if as_user else self.admin)}
        result = subprocess.run(shlex.split(command), env=env, capture_output=True, text=True, check=False)
        print((result.stdout + result.stderr).rstrip(), flush=True)
        if (result.returncode == 0) != expect_ok:
            raise RuntimeError(f"unexpected {'failure' if expect_ok else 'success'} of: {command}")
        return result.returncode == 0

    def wait_for(self, resource: str, jsonpath: str, expected: str, timeout: float = 90) -> None:
        """Poll `kubectl get RESOURCE -o jsonpath=...` (quietly) until it prints `expected`."""
        env = os.environ | {"PATH": self.path, "KUBECONFIG": str(self.admin)}
        argv = ["kubectl", "get", *resource.split(), "-n", NAMESPACE, "-o", f"jsonpath={jsonpath}"]
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            seen = subprocess.run(argv, env=env, capture_output=True, text=True, check=False).stdout
            if seen == expected:
                return
            time.sleep(0.5)
        raise RuntimeError(f"{resource} {jsonpath} is {seen!r}, not {expected!r}, after {timeout:.0f}s")


class Drift:
    """The model's drift signal: a stand-in exporter that Prometheus scrapes every second."""

    def __init__(self, prometheus: PrometheusServer) -> None:
        self.prometheus = prometheus
        self.exporter = GaugeExporter(DRIFT_METRIC)
        prometheus.set_targets([self.exporter.address])

    def set(self, value: float) -> None:
        """Serve `value` and wait until Prometheus has it."""
        self.exporter.set(SYSTEM, value, self.prometheus.url)


def story(stack: Stack, shell: Shell, drift: Drift) -> None:
    """The governance story, told with real commands."""
    alice = stack.person("alice", "aigov-assessor", groups=(ASSESSOR_GROUP,))
    bob = stack.person("bob", "aigov-approver", groups=(APPROVER_GROUP,))
    shell.run(f"kubectl create namespace {NAMESPACE}")

    _say("An LLM server nobody registered is refused")
    shell.run(f"kubectl apply -n {NAMESPACE} -f samples/workloads/ungoverned-vllm.yaml", expect_ok=False)

    _say("The team registers its AI system; its workload is refused until it is assessed and approved")
    shell.run(f"kubectl apply -n {NAMESPACE} -f samples/minimal-chatbot.yaml")
    shell.run(f"kubectl apply -n {NAMESPACE} -f samples/workloads/support-chatbot.yaml", expect_ok=False)

    _say("alice (assessor) records the impact assessment; bob (approver) approves, each as themselves")
    shell.run(
        f"kubectl aigov assess {SYSTEM} -n {NAMESPACE} --file samples/assessments/support-chatbot-ia.md "
        "--reference https://docs.example.com/ia/support-chatbot.pdf --expires 365d --residual-risk low",
        as_user=alice,
    )
    shell.run(
        f"kubectl aigov approve {SYSTEM} -n {NAMESPACE} --role product-owner --expires 180d "
        "--justification 'Transparency notice shown; human handover in place'",
        as_user=bob,
    )
    _say("bob cannot rewrite alice's assessment: records are bound to who wrote them")
    shell.run(
        f"kubectl aigov assess {SYSTEM} -n {NAMESPACE} --reference https://example.com/other.pdf "
        f"--sha256 {'cd' * 32} --expires 365d --residual-risk low",
        as_user=bob,
        expect_ok=False,
    )

    _say("The same Deployment is now admitted")
    shell.run(f"kubectl apply -n {NAMESPACE} -f samples/workloads/support-chatbot.yaml")
    shell.run(f"kubectl get aisystems -n {NAMESPACE}")
    shell.run(f"kubectl aigov status {SYSTEM} -n {NAMESPACE}")

    _say("The team adds a drift check: answer-distribution PSI above 0.25 for 10s suspends the system")
    drift.set(0.08)
    shell.run(f"kubectl patch aisystem {SYSTEM} -n {NAMESPACE} --type=merge -p '{DRIFT_CHECK}'")
    _say("A new drift check changes what was approved: bob re-approves the system as it now stands")
    shell.run(
        f"kubectl aigov approve {SYSTEM} -n {NAMESPACE} --role product-owner --expires 180d "
        "--justification 'Drift check reviewed: suspends above PSI 0.25'",
        as_user=bob,
    )
    shell.wait_for(f"aisystem {SYSTEM}", "{.status.phase}", "Approved")
    _say(f"The model drifts: {DRIFT_METRIC} rises to 0.41; the operator suspends and scales to zero")
    drift.set(0.41)
    shell.wait_for(f"aisystem {SYSTEM}", "{.status.phase}", "Suspended")
    shell.wait_for(f"deployment {SYSTEM}", "{.spec.replicas}", "0")
    shell.run(f"kubectl get aisystems -n {NAMESPACE}")
    shell.run(
        f"kubectl get deployment {SYSTEM} -n {NAMESPACE} -o custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas"
    )
    shell.run(f"kubectl get events -n {NAMESPACE} --field-selector type=Warning")
    _say("While suspended, nobody scales it back up")
    shell.run(f"kubectl scale deployment {SYSTEM} -n {NAMESPACE} --replicas=2", expect_ok=False)

    _say("The team retrains; bob (approver) resumes, and the operator restores the recorded replicas")
    drift.set(0.05)
    shell.run(
        f"kubectl aigov resume {SYSTEM} -n {NAMESPACE} --justification 'Retrained on recent data; PSI back to 0.05'",
        as_user=bob,
    )
    shell.wait_for(f"deployment {SYSTEM}", "{.spec.replicas}", "2")
    shell.run(
        f"kubectl get deployment {SYSTEM} -n {NAMESPACE} -o custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas"
    )
    shell.run(f"kubectl aigov history {SYSTEM} -n {NAMESPACE}")

    _say("Yours to try")
    print(f"  export KUBECONFIG={stack.cluster.kubeconfig}   # admin (system:masters)")
    print(f"  export PATH={shell.path.split(os.pathsep)[0]}:$PATH   # kubectl v1.35.4 and kubectl-aigov")
    print(f"  alice (assessor): KUBECONFIG={alice.kubeconfig}")
    print(f"  bob (approver):   KUBECONFIG={bob.kubeconfig}")
    print("  kubectl get ais -A; kubectl aigov status -A; kubectl aigov history support-chatbot -n demo")
    print(f"\n  API server {stack.cluster.url}, webhook {stack.webhook.url}, OPA {stack.webhook.opa.url}")
    print(f"  Prometheus {drift.prometheus.url} (query {DRIFT_METRIC})")
    print("  Ctrl-C (or SIGTERM) stops everything.", flush=True)


class StopSignalError(Exception):
    """SIGTERM or SIGINT arrived: unwind and stop every server started so far."""


def _stop_on_signal(signum: int, _frame: object) -> None:
    """Raise StopSignalError once; a second signal during teardown is ignored, so the teardown finishes."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise StopSignalError(signal.Signals(signum).name)


def claim_workdir(workdir: Path) -> IO[str]:
    """Lock `workdir` for this run (the lock file sits beside it); refuse while another demo holds it.

    Servers a killed demo left running in `workdir` are stopped, then its state is removed:
    each run starts from empty state of its own.
    """
    workdir.parent.mkdir(parents=True, exist_ok=True)
    lock = workdir.with_name(f"{workdir.name}.lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "?"
        lock.close()
        raise RuntimeError(
            f"another demo (pid {holder}) is running with its state in {workdir}; "
            f"stop it (Ctrl-C, or kill -TERM {holder}) or give this one its own --workdir"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    if leftovers := processes_in(workdir):
        _say(f"Stopping {len(leftovers)} servers an earlier demo left running in {workdir}")
        stop_process_groups(set(leftovers.values()))
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    return lock


def main(argv: list[str] | None = None) -> int:
    """Run the demo until Ctrl-C or SIGTERM (or, with --exit, until the story is told)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop_on_signal)
    parser = argparse.ArgumentParser(prog="python -m devkit.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=cache_dir().parent / "demo", help="state and logs")
    parser.add_argument("--exit", action="store_true", help="stop after the story instead of waiting")
    args = parser.parse_args(argv)
    workdir: Path = args.workdir.resolve()
    lock: IO[str] | None = None
    try:
        lock = claim_workdir(workdir)
        os.chdir(REPO)
        _say(f"Starting etcd, kube-apiserver, OPA, Prometheus, aigov's webhook and operator on 127.0.0.1 ({workdir})")
        with contextlib.ExitStack() as running:
            cluster = running.enter_context(ControlPlane(workdir / "controlplane"))
            prometheus = start_prometheus(workdir / "prometheus")
            running.callback(prometheus.server.stop)
            stack = start_stack(cluster, workdir / "aigov", prometheus_url=prometheus.url)
            running.callback(stack.stop)
            drift = Drift(prometheus)
            running.callback(drift.exporter.close)
            story(stack, Shell(cluster, workdir), drift)
            if not args.exit:
                threading.Event().wait()
    except StopSignalError as exc:
        _say(f"Stopped by {exc}")
        return 0
    except (BinaryNotFoundError, ServerError, RuntimeError) as exc:
        print(f"\ndemo {'refused' if lock is None else 'failed'}: {exc}", file=sys.stderr)
        return 1
    finally:
        if lock is not None:
            lock.close()
    _say("Stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
