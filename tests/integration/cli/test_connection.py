"""kubectl's connection habits for every cluster command: impersonation, kubeconfig problems, the cluster's config."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from aigov.cli.app import app
from tests.integration.cli.conftest import People, apply, get, system

HEX = "ab" * 32


def admin(people: People, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--kubeconfig", str(people.kube.kubeconfig)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_as_binds_the_record_to_the_impersonated_user(people: People, governed_namespace: str) -> None:
    ns = governed_namespace
    apply(people.kube, system("chat"), namespace=ns)
    args = ["approve", "chat", "-n", ns, "--role", "cto", "--expires", "30d", "--justification", "ok"]
    code, out, err = admin(people, *args, "--as", "alice", "--as-group", "aigov:approvers")
    assert code == 0, err
    assert out.strip() == "aisystem.aigov.io/chat approved as cto by alice"
    assert [a["approver"] for a in get(people.kube, ns, "chat")["status"]["approvals"]] == ["alice"]
    # Impersonating someone outside the approver groups: the record policy judges that identity.
    code, _, err = admin(people, *args, "--as", "mallory", "--as-group", "staff")
    assert code == 1
    assert "AIGOV_" in err


def test_impersonation_set_in_the_kubeconfig(people: People, governed_namespace: str, tmp_path: Path) -> None:
    config = yaml.safe_load(people.kube.kubeconfig.read_text())
    for user in config["users"]:
        user["user"] |= {"as": "bob", "as-groups": ["aigov:approvers"]}
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    apply(people.kube, system("chat"), namespace=governed_namespace)
    args = ["approve", "chat", "-n", governed_namespace, "--role", "cto", "--expires", "30d", "--justification", "ok"]
    result = CliRunner().invoke(app, [*args, "--kubeconfig", str(kubeconfig), "-o", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["approver"] == "bob"


def test_kubeconfig_and_configuration_problems_are_messages(people: People, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.write_text("clusters: [\n  - x: {\n")
    for args, message in [
        (["status", "--kubeconfig", str(bad)], f"error: kubeconfig {bad} cannot be read as YAML"),
        (["status", "--kubeconfig", str(tmp_path / "none")], f"kubeconfig {tmp_path / 'none'} does not exist"),
        (["status", "--config", str(tmp_path / "none.yaml")], "cannot read configuration"),
        (["evidence", "export", "--out", str(tmp_path / "ev"), "--config", str(bad)], "is not valid YAML"),
        (["status", "--context", "nope"], "nope"),
    ]:
        result = CliRunner().invoke(
            app, args if "--kubeconfig" in args else [*args, "--kubeconfig", str(people.kube.kubeconfig)]
        )
        assert result.exit_code == 1, (args, result.stdout, result.stderr)
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def test_status_judges_with_the_clusters_configuration(people: People, governed_namespace: str) -> None:
    apply(people.kube, system("chat", tier="limited"), namespace=governed_namespace)
    code, out, _ = admin(people, "status", "chat", "-n", governed_namespace)
    assert code == 0
    assert "Approvals needed: 1 valid" in out
    assert "Configuration:    built-in defaults (ConfigMap aigov-system/aigov-config not readable: NotFound" in out
    people.kube.kubectl("create", "namespace", "aigov-system", check=False)
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "aigov-config", "namespace": "aigov-system"},
        "data": {"config.yaml": "tiers:\n  limited: {minApprovals: 3}\n"},
    }
    apply(people.kube, configmap)
    try:
        code, out, err = admin(people, "status", "chat", "-n", governed_namespace)
        assert code == 0, err
        assert "Approvals needed: 3 valid" in out
        assert "Configuration:    cluster ConfigMap aigov-system/aigov-config" in out
        code, out, _ = admin(people, "status", "chat", "-n", governed_namespace, "-o", "json")
        assert json.loads(out)["required"]["approvals"] == 3
    finally:
        people.kube.kubectl("delete", "configmap", "aigov-config", "-n", "aigov-system")
