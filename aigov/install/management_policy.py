"""The ValidatingAdmissionPolicy binding AIManagementSystem approvals and review sign-offs to their authors.

Separate from the AISystem record policy (`aigov.install.admission`): it applies to
UPDATEs of `aimanagementsystems/status` only. An approval is appended (never
changed or removed) by a user in an approver group, in that user's own name, and
pins the revision it approves: `spec.version` and `metadata.generation` as they are.
"""

from __future__ import annotations

import json
from typing import Any

from aigov.core.config import Config
from aigov.core.management_system import MS_PLURAL
from aigov.install.vap import policy_binding, status_policy, validation

POLICY_NAME = "aigov-management-system-approvals"


def _variables(config: Config) -> list[tuple[str, str]]:
    reviews = [
        ("oldReviews", "oldObject.?status.?reviews.orValue([])"),
        ("newReviews", "object.?status.?reviews.orValue([])"),
        (
            "reviewsKept",
            "size(variables.newReviews) >= size(variables.oldReviews) && "
            "variables.newReviews.slice(0, size(variables.oldReviews)) == variables.oldReviews",
        ),
        (
            "addedReviews",
            "variables.reviewsKept ? "
            "variables.newReviews.slice(size(variables.oldReviews), size(variables.newReviews)) : []",
        ),
    ]
    return [
        *reviews,
        ("old", "oldObject.?status.?approvals.orValue([])"),
        ("new", "object.?status.?approvals.orValue([])"),
        (
            "kept",
            "size(variables.new) >= size(variables.old) && "
            "variables.new.slice(0, size(variables.old)) == variables.old",
        ),
        ("added", "variables.kept ? variables.new.slice(size(variables.old), size(variables.new)) : []"),
        (
            "isApprover",
            "request.userInfo.?groups.orValue([]).exists(g, g in "
            + json.dumps(list(config.identity.approver_groups))
            + ")",
        ),
    ]


def management_policy(config: Config) -> dict[str, Any]:
    """The policy: append-only approvals, by approvers, in their own name, of the current revision."""
    groups = ", ".join(config.identity.approver_groups)
    return status_policy(
        POLICY_NAME,
        MS_PLURAL,
        _variables(config),
        [
            validation(
                "variables.kept && variables.reviewsKept",
                "AIGOV_RECORD_IMMUTABLE: approvals and reviews of the AI management system are append-only",
            ),
            validation(
                "size(variables.added) + size(variables.addedReviews) == 0 || variables.isApprover",
                f"AIGOV_NOT_APPROVER: only members of {groups} approve or review the AI management system",
            ),
            validation(
                "variables.added.all(a, a.approver == request.userInfo.username) && "
                "variables.addedReviews.all(r, r.reviewer == request.userInfo.username)",
                "AIGOV_APPROVER_MISMATCH: an approval or review must name the user who records it",
            ),
            validation(
                "variables.added.all(a, a.version == object.spec.version && "
                "a.generation == object.metadata.generation)",
                "AIGOV_APPROVAL_NOT_CURRENT: an approval must pin the current spec.version and metadata.generation",
            ),
        ],
    )


def management_policy_binding() -> dict[str, Any]:
    """The binding that makes the policy deny."""
    return policy_binding(POLICY_NAME)
