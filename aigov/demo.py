"""`make demo`: a real local control plane running aigov, admitting and denying real deployments.

Starts etcd, kube-apiserver, OPA, the aigov webhook and operator on loopback,
then walks through the governance story with real `kubectl` calls: an
ungoverned model server is refused; a registered one is refused until an
assessor records the impact assessment and an approver approves (as
themselves, through `kubectl aigov`); then it is admitted. Everything stays up
for you to try; Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from aigov.binaries import BinaryNotFoundError, cache_dir, find
from aigov.devcluster import ControlPlane, ServerError, User
from aigov.devstack import REPO, Stack, start_stack

NAMESPACE = "demo"
SYSTEM = "support-chatbot"
ASSESSOR_GROUP, APPROVER_GROUP = "aigov:assessors", "aigov:approvers"


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


def story(stack: Stack, shell: Shell) -> None:
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
        f"kubectl aigov assess {SYSTEM} -n {NAMESPACE} --reference https://docs.example.com/ia/support-chatbot.pdf "
        f"--sha256 {'ab' * 32} --expires 365d --residual-risk low",
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

    _say("Yours to try")
    print(f"  export KUBECONFIG={stack.cluster.kubeconfig}   # admin (system:masters)")
    print(f"  export PATH={shell.path.split(os.pathsep)[0]}:$PATH   # kubectl v1.35.4 and kubectl-aigov")
    print(f"  alice (assessor): KUBECONFIG={alice.kubeconfig}")
    print(f"  bob (approver):   KUBECONFIG={bob.kubeconfig}")
    print("  kubectl get ais -A; kubectl aigov status -A; kubectl aigov history support-chatbot -n demo")
    print(f"\n  API server {stack.cluster.url}, webhook {stack.webhook_url}, OPA {stack.opa.url}")
    print("  Ctrl-C stops everything.", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the demo until Ctrl-C or SIGTERM (or, with --exit, until the story is told)."""
    parser = argparse.ArgumentParser(prog="python -m aigov.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=cache_dir().parent / "demo", help="state and logs")
    parser.add_argument("--exit", action="store_true", help="stop after the story instead of waiting")
    args = parser.parse_args(argv)
    workdir: Path = args.workdir
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    os.chdir(REPO)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _say(f"Starting etcd, kube-apiserver, OPA, the aigov webhook and operator on 127.0.0.1 (logs in {workdir})")
        with ControlPlane(workdir / "controlplane") as cluster:
            stack = start_stack(cluster, workdir / "aigov")
            try:
                story(stack, Shell(cluster, workdir))
                if not args.exit:
                    stop.wait()
            finally:
                stack.stop()
    except KeyboardInterrupt:
        pass
    except (BinaryNotFoundError, ServerError, RuntimeError) as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    _say("Stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
