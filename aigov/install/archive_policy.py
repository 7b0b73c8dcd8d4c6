"""The ValidatingAdmissionPolicy that makes AISystemArchives append-only and the operator's alone.

Applies to CREATE, UPDATE and DELETE of `aisystemarchives` (they have no
subresources). Only a user in `identity.operatorUsernames` creates or updates an
archive; an update keeps the spec and every existing entry as it is (entries are
only appended, checked with CEL's list `slice`); only a member of
`identity.retentionAdminGroups` deletes one, when the retention period is over.
"""

from __future__ import annotations

import json
from typing import Any

from aigov.core.archive import ARCHIVE_PLURAL
from aigov.core.config import Config
from aigov.install.vap import policy, policy_binding, resource_rule, validation

POLICY_NAME = "aigov-archive-integrity"


def archive_policy(config: Config) -> dict[str, Any]:
    """The policy: operator-only writes, append-only entries, deletion by retention admins."""
    identity = config.identity
    admins = ", ".join(identity.retention_admin_groups) or "(no group configured)"
    variables = [
        ("isOperator", f"request.userInfo.username in {json.dumps(list(identity.operator_usernames))}"),
        (
            "isRetentionAdmin",
            "request.userInfo.?groups.orValue([]).exists(g, g in "
            + json.dumps(list(identity.retention_admin_groups))
            + ")",
        ),
        ("old", "request.operation == 'UPDATE' ? oldObject.?entries.orValue([]) : []"),
        ("new", "request.operation == 'DELETE' ? [] : object.?entries.orValue([])"),
    ]
    return policy(
        POLICY_NAME,
        [resource_rule(ARCHIVE_PLURAL, "CREATE", "UPDATE", "DELETE")],
        variables,
        [
            validation(
                "request.operation == 'DELETE' || variables.isOperator",
                "AIGOV_ARCHIVE_WRITER: only the aigov operator writes an AISystemArchive",
            ),
            validation(
                "request.operation != 'UPDATE' || (object.spec == oldObject.spec && "
                "size(variables.new) >= size(variables.old) && "
                "variables.new.slice(0, size(variables.old)) == variables.old)",
                "AIGOV_RECORD_IMMUTABLE: an AISystemArchive is append-only: its spec and existing entries never change",
            ),
            validation(
                "request.operation != 'DELETE' || variables.isRetentionAdmin",
                f"AIGOV_ARCHIVE_RETAINED: only members of {admins} delete an AISystemArchive, "
                "when its retention period is over",
            ),
        ],
    )


def archive_policy_binding() -> dict[str, Any]:
    """The binding that makes the policy deny."""
    return policy_binding(POLICY_NAME)
