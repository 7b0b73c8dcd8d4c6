"""The rendered webhook configuration and record policy."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from aigov.core.config import Config, Identity
from aigov.core.workloads import KINDS
from aigov.install import prefilter
from aigov.install.admission import (
    POLICY_NAME,
    Registration,
    ServiceClient,
    UrlClient,
    manifests,
    record_policy,
    record_policy_binding,
    webhook_configuration,
)

CA = b"-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n"


def _hooks(reg: Registration, config: Config | None = None) -> dict[str, dict[str, Any]]:
    rendered = webhook_configuration(reg, config or Config())
    return {hook["name"]: hook for hook in rendered["webhooks"]}


def _resources(hook: dict[str, Any]) -> set[str]:
    return {f"{rule['apiGroups'][0]}/{resource}" for rule in hook["rules"] for resource in rule["resources"]}


def test_local_registration_uses_url_and_ca_bundle() -> None:
    hooks = _hooks(Registration(UrlClient("https://127.0.0.1:8443/", CA)))
    workloads, aisystems = hooks["workloads.aigov.io"], hooks["aisystems.aigov.io"]
    assert workloads["clientConfig"] == {
        "url": "https://127.0.0.1:8443/validate",
        "caBundle": base64.b64encode(CA).decode(),
    }
    assert aisystems["clientConfig"]["url"] == "https://127.0.0.1:8443/validate-aisystem"


def test_chart_registration_uses_a_service() -> None:
    hooks = _hooks(Registration(ServiceClient("aigov-system", "aigov-webhook")))
    assert hooks["workloads.aigov.io"]["clientConfig"] == {
        "service": {"namespace": "aigov-system", "name": "aigov-webhook", "path": "/validate", "port": 443}
    }


def test_rules_cover_workloads_scale_kserve_and_aisystems() -> None:
    hooks = _hooks(Registration(UrlClient("https://127.0.0.1:1", CA)))
    assert _resources(hooks["workloads.aigov.io"]) == {
        "/pods",
        "/pods/ephemeralcontainers",
        "apps/deployments",
        "apps/replicasets",
        "apps/statefulsets",
        "apps/daemonsets",
        "apps/deployments/scale",
        "apps/statefulsets/scale",
        "batch/jobs",
        "batch/cronjobs",
        "serving.kserve.io/inferenceservices",
        "/replicationcontrollers",
        "/replicationcontrollers/scale",
        "apps/replicasets/scale",
    } | {f"{k.group}/{k.resource}" for k in KINDS} | {f"{k.group}/{k.resource}/scale" for k in KINDS if k.scale}
    # Records in aisystems/status are bound by the ValidatingAdmissionPolicy; the AISystem hook
    # sees the status writes recording a new assessment only to warn about a placeholder sha256.
    assert _resources(hooks["aisystems.aigov.io"]) == {"aigov.io/aisystems", "aigov.io/aisystems/status"}


def test_workloads_fail_closed_and_aisystems_open() -> None:
    hooks = _hooks(Registration(UrlClient("https://127.0.0.1:1", CA)))
    assert hooks["workloads.aigov.io"]["failurePolicy"] == "Fail"
    # The AISystem hook only warns: an outage must not block editing AISystems.
    assert hooks["aisystems.aigov.io"]["failurePolicy"] == "Ignore"


def test_failure_policy_must_be_fail_or_ignore() -> None:
    with pytest.raises(ValueError, match="failure_policy"):
        Registration(UrlClient("https://127.0.0.1:1", CA), failure_policy="Open")


def test_timeout_and_exclusions() -> None:
    reg = Registration(UrlClient("https://127.0.0.1:1", CA), timeout_seconds=5, aigov_namespace="governance")
    for hook in _hooks(reg).values():
        assert hook["sideEffects"] == "None"
        assert hook["timeoutSeconds"] == 5
        assert hook["admissionReviewVersions"] == ["v1"]
        assert hook["namespaceSelector"]["matchExpressions"][:2] == [
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["governance", "kube-system"]},
            {"key": "aigov.io/enforcement", "operator": "NotIn", "values": ["off"]},
        ]


def test_strict_namespaces_get_every_workload_and_others_the_prefilter() -> None:
    hooks = _hooks(Registration(UrlClient("https://127.0.0.1:1", CA)))
    filtered, strict = hooks["workloads.aigov.io"], hooks["strict-workloads.aigov.io"]
    assert filtered["namespaceSelector"]["matchExpressions"][2] == {
        "key": "aigov.io/scope",
        "operator": "NotIn",
        "values": ["ai"],
    }
    assert strict["namespaceSelector"]["matchExpressions"][2] == {
        "key": "aigov.io/scope",
        "operator": "In",
        "values": ["ai"],
    }
    assert strict["rules"] == filtered["rules"]
    assert [c["name"] for c in strict["matchConditions"]] == ["not-operator-safety-write"]
    assert filtered["matchConditions"][0] == strict["matchConditions"][0]
    assert len(filtered["matchConditions"]) <= prefilter.MAX_MATCH_CONDITIONS


def test_prefilter_lets_serving_kinds_through_and_reads_every_label_path() -> None:
    conditions = prefilter.match_conditions(Config())
    text = " ".join(c["expression"] for c in conditions)
    serving = [k for k in Config().kinds if k.ai_by_kind]
    assert serving and all(f'"{k.group}/{k.kind}"' not in text for k in serving)
    for kind in Config().kinds:
        if not kind.ai_by_kind:
            assert f'"{kind.group}/{kind.kind}"' in text
            for path in kind.label_paths():
                assert path.split(".")[-2] in text
    assert "oldObject" in text


def test_operator_is_exempt_only_for_safety_writes() -> None:
    config = Config(identity=Identity(operator_usernames=("system:serviceaccount:gov:op",)))
    hooks = _hooks(Registration(UrlClient("https://127.0.0.1:1", CA)), config)
    workloads = hooks["workloads.aigov.io"]["matchConditions"][0]["expression"]
    assert '"system:serviceaccount:gov:op"' in workloads
    assert "object.spec.replicas == 0" in workloads
    assert "serving.kserve.io/stop" in workloads
    assert "aigov.io/stopped" in workloads and "object.?spec.?suspend.orValue(false) == true" in workloads
    assert hooks["aisystems.aigov.io"]["matchConditions"][0]["expression"] == (
        '!(request.userInfo.username in ["system:serviceaccount:gov:op"])'
    )


@pytest.mark.parametrize("timeout", [0, 31])
def test_timeout_must_be_what_the_api_server_accepts(timeout: int) -> None:
    with pytest.raises(ValueError, match="timeout_seconds"):
        Registration(UrlClient("https://127.0.0.1:1", CA), timeout_seconds=timeout)


def test_record_policy_binds_status_updates_with_configured_identities() -> None:
    config = Config(identity=Identity(assessor_groups=("risk:assessors",), approver_groups=("risk:board",)))
    policy = record_policy(config)
    assert policy["spec"]["matchConstraints"]["resourceRules"] == [
        {"apiGroups": ["aigov.io"], "apiVersions": ["*"], "resources": ["aisystems/status"], "operations": ["UPDATE"]},
        {"apiGroups": ["aigov.io"], "apiVersions": ["*"], "resources": ["aisystems"], "operations": ["DELETE"]},
    ]
    variables = {v["name"]: v["expression"] for v in policy["spec"]["variables"]}
    assert variables["isAssessor"] == 'variables.groups.exists(g, g in ["risk:assessors"])'
    assert variables["isApprover"] == 'variables.groups.exists(g, g in ["risk:board"])'
    for code in (
        "AIGOV_OPERATOR_FIELD",
        "AIGOV_NOT_ASSESSOR",
        "AIGOV_ASSESSOR_MISMATCH",
        "AIGOV_RECORD_IMMUTABLE",
        "AIGOV_APPROVER_MISMATCH",
        "AIGOV_NOT_APPROVER",
        "AIGOV_SELF_APPROVAL",
        "AIGOV_ROLE_NOT_GRANTED",
        "AIGOV_RESUME_INCOMPLETE",
    ):
        assert code in variables["violations"]
    assert "AIGOV_RECORDS_RETAINED" in policy["spec"]["validations"][1]["messageExpression"]
    assert policy["spec"]["validations"][0]["reason"] == "Forbidden"
    assert record_policy_binding()["spec"] == {"policyName": POLICY_NAME, "validationActions": ["Deny"]}


def test_operator_fields_follow_the_model() -> None:
    fields = dict((v["name"], v["expression"]) for v in record_policy(Config())["spec"]["variables"])
    changed = fields["changedOperatorFields"]
    for operator_field in ("phase", "conditions", "boundWorkloads", "suspensionHistory", "suspension.previousReplicas"):
        assert f'"{operator_field}"' in changed
    for human_field in ("impactAssessment", "approvals", "suspension.resumedBy", "suspension.suspendedBy"):
        assert f'"{human_field}"' not in changed


def test_manifests_put_the_policy_before_the_webhook() -> None:
    kinds = [m["kind"] for m in manifests(Registration(UrlClient("https://127.0.0.1:1", CA)), Config())]
    assert kinds == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration"]
