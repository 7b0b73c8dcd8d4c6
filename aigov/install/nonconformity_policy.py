"""The ValidatingAdmissionPolicy binding nonconformity closures to the people who close them.

Applies to UPDATEs of `nonconformities/status`. The CRD schema already requires a
closure's root cause, action, ticket and effectiveness check; this policy adds
who may write what: a closure is written once, by a user in an approver group, in
that user's own name, and for a high-risk system not by whoever resumed it
(separation of duties); `resumedBy` and `effectiveness` are the operator's alone.
"""

from __future__ import annotations

import json
from typing import Any

from aigov.core.config import Config
from aigov.core.nonconformity import NC_PLURAL, OPERATOR_FIELDS
from aigov.install.vap import policy_binding, status_policy, validation

POLICY_NAME = "aigov-nonconformity-closure"


def _variables(config: Config) -> list[tuple[str, str]]:
    identity = config.identity
    operator_changed = " || ".join(
        f"oldObject.?status.?{field} != object.?status.?{field}" for field in OPERATOR_FIELDS
    )
    return [
        ("user", "request.userInfo.username"),
        ("isOperator", f"variables.user in {json.dumps(list(identity.operator_usernames))}"),
        (
            "isCloser",
            f"request.userInfo.?groups.orValue([]).exists(g, g in {json.dumps(list(identity.approver_groups))})",
        ),
        ("closureChanged", "oldObject.?status.?closure != object.?status.?closure"),
        ("operatorChanged", operator_changed),
    ]


def nonconformity_policy(config: Config) -> dict[str, Any]:
    """The policy: closures once, by approvers, in their own name, not by the resumer for high risk."""
    groups = ", ".join(config.identity.approver_groups)
    new_closure = "!variables.closureChanged || oldObject.?status.?closure.hasValue() || "
    return status_policy(
        POLICY_NAME,
        NC_PLURAL,
        _variables(config),
        [
            validation(
                "!variables.closureChanged || !oldObject.?status.?closure.hasValue()",
                "AIGOV_RECORD_IMMUTABLE: a nonconformity's closure is written once; open a new one instead",
            ),
            validation(
                "!variables.operatorChanged || variables.isOperator",
                "AIGOV_OPERATOR_FIELD: resumedBy and effectiveness are the operator's",
            ),
            validation(
                new_closure + "(variables.isCloser && !variables.isOperator)",
                f"AIGOV_NOT_APPROVER: only members of {groups} close a nonconformity",
            ),
            validation(
                new_closure + "object.status.closure.closedBy == variables.user",
                "AIGOV_APPROVER_MISMATCH: a closure must name the user who records it",
            ),
            validation(
                new_closure
                + "object.spec.?riskTier.orValue('') != 'high' || "
                + "object.status.closure.closedBy != object.status.?resumedBy.orValue('')",
                "AIGOV_SELF_CLOSURE: for a high-risk system, whoever resumed it may not close its nonconformity",
            ),
        ],
    )


def nonconformity_policy_binding() -> dict[str, Any]:
    """The binding that makes the policy deny."""
    return policy_binding(POLICY_NAME)
