"""The ValidatingAdmissionPolicy that binds AIGovException records to who makes them.

The same approach as the AISystem record policy (`aigov.install.admission.record_policy`,
docs/records.md): CEL inside the API server, so no webhook outage can block a record
and every write is bound, the operator's included. The rules are data: a code, the
CEL condition under which it is broken, and the CEL message (docs/exceptions.md).

- CREATE of `aigovexceptions`: the requester is the caller; the expiry lies after the
  creation and within the configured maximum (hours for break-glass); no code is
  never-waivable; break-glass only by a member of a break-glass group.
- UPDATE of `aigovexceptions/status`: `status.records` is append-only; a new record
  names the caller; approvals and reviews come from an approver who is not the
  requester; revocations from the requester, an approver or the on-call group;
  `status.state` is the operator's alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aigov.core.config import EXCEPTION_PLURAL, Config
from aigov.install import vap
from aigov.install.admission import _cel_list

POLICY_NAME = "aigov-exception-records"


@dataclass(frozen=True, slots=True)
class RecordRule:
    """One rule: broken when `condition` (CEL) holds; `message` is a CEL string expression."""

    code: str
    condition: str
    message: str


def _variables(config: Config) -> list[tuple[str, str]]:
    identity, policy = config.identity, config.exceptions
    return [
        ("user", "request.userInfo.username"),
        ("groups", "request.userInfo.?groups.orValue([])"),
        ("isOperator", f"variables.user in {_cel_list(identity.operator_usernames)}"),
        ("isApprover", f"variables.groups.exists(g, g in {_cel_list(identity.approver_groups)})"),
        ("isOnCall", f"variables.groups.exists(g, g in {_cel_list(policy.break_glass_groups)})"),
        ("isCreate", "request.operation == 'CREATE'"),
        ("requester", "object.spec.requestedBy"),
        ("isRequester", "variables.user.lowerAscii() == variables.requester.lowerAscii()"),
        ("breakGlass", "object.spec.?breakGlass.orValue(false)"),
        ("created", "timestamp(object.metadata.creationTimestamp)"),
        ("expires", "timestamp(object.spec.expiresAt)"),
        (
            "maxDuration",
            f"variables.breakGlass ? duration('{policy.break_glass_hours}h') : duration('{policy.max_days * 24}h')",
        ),
        ("oldRecords", "variables.isCreate ? [] : oldObject.?status.?records.orValue([])"),
        ("newRecords", "object.?status.?records.orValue([])"),
        (
            "recordsKept",
            "size(variables.newRecords) >= size(variables.oldRecords) && "
            "variables.newRecords.slice(0, size(variables.oldRecords)) == variables.oldRecords",
        ),
        (
            "added",
            "variables.recordsKept ? "
            "variables.newRecords.slice(size(variables.oldRecords), size(variables.newRecords)) : []",
        ),
        ("grants", "variables.added.filter(r, r.action in ['approved', 'reviewed'])"),
        (
            "stateChanged",
            "!variables.isCreate && object.?status.?state.orValue('') != oldObject.?status.?state.orValue('')",
        ),
    ]


def rules(config: Config) -> tuple[RecordRule, ...]:
    """Every rule, in the order their messages are listed."""
    identity, policy = config.identity, config.exceptions
    approvers, on_call = ", ".join(identity.approver_groups), ", ".join(policy.break_glass_groups)
    create, person = "variables.isCreate", "!variables.isCreate && !variables.isOperator"
    return (
        RecordRule(
            "AIGOV_REQUESTER_MISMATCH",
            f"{create} && variables.requester != variables.user",
            "'spec.requestedBy is ' + variables.requester + ' but the request comes from ' + variables.user + "
            "'; request exceptions as yourself (kubectl aigov exception request)'",
        ),
        RecordRule(
            "AIGOV_EXCEPTION_TOO_LONG",
            f"{create} && variables.expires > variables.created + variables.maxDuration",
            "'spec.expiresAt ' + object.spec.expiresAt + ' is more than ' + "
            f"(variables.breakGlass ? '{policy.break_glass_hours} hours' : '{policy.max_days} days') + "
            "' after creation; ask for less and renew with a new exception if needed'",
        ),
        RecordRule(
            "AIGOV_EXCEPTION_EXPIRED",
            f"{create} && variables.expires <= variables.created",
            "'spec.expiresAt ' + object.spec.expiresAt + ' is not in the future'",
        ),
        RecordRule(
            "AIGOV_NOT_WAIVABLE",
            f"{create} && object.spec.codes.exists(c, c in {_cel_list(policy.never_waivable)})",
            f"'codes ' + object.spec.codes.filter(c, c in {_cel_list(policy.never_waivable)}).join(', ') + "
            "' can never be waived'",
        ),
        RecordRule(
            "AIGOV_NOT_ON_CALL",
            f"{create} && variables.breakGlass && !variables.isOnCall",
            f"variables.user + ' is not in a break-glass group ({on_call}); request a normal exception "
            "and ask an approver'",
        ),
        RecordRule(
            "AIGOV_RECORD_IMMUTABLE",
            f"{person} && !variables.recordsKept",
            "'status.records is append-only; existing entries cannot be changed, reordered or removed'",
        ),
        RecordRule(
            "AIGOV_APPROVER_MISMATCH",
            f"{person} && variables.added.exists(r, r.by != variables.user)",
            "'a new record names ' + variables.added.filter(r, r.by != variables.user)[0].by + "
            "' but the request comes from ' + variables.user + '; record your own decision'",
        ),
        RecordRule(
            "AIGOV_NOT_APPROVER",
            f"{person} && size(variables.grants) > 0 && !variables.isApprover",
            f"variables.user + ' is not in an approver group ({approvers}); only approvers approve or review "
            "exceptions'",
        ),
        RecordRule(
            "AIGOV_SELF_APPROVAL",
            f"{person} && size(variables.grants) > 0 && variables.isRequester",
            "variables.user + ' requested this exception and cannot approve or review it (separation of duties); "
            "ask another approver'",
        ),
        RecordRule(
            "AIGOV_BREAK_GLASS_REVIEW",
            f"{person} && variables.grants.exists(r, (r.action == 'approved') == variables.breakGlass)",
            "(variables.breakGlass ? 'a break-glass exception is reviewed, not approved' : "
            "'only a break-glass exception is reviewed; approve this one') + ' (kubectl aigov exception approve)'",
        ),
        RecordRule(
            "AIGOV_NOT_REVOKER",
            f"{person} && variables.added.exists(r, r.action == 'revoked') && "
            "!(variables.isRequester || variables.isApprover || variables.isOnCall)",
            "variables.user + ' is neither the requester nor an approver nor on call; they revoke exceptions'",
        ),
        RecordRule(
            "AIGOV_OPERATOR_FIELD",
            "!variables.isCreate && (variables.isOperator ? variables.newRecords != variables.oldRecords "
            ": variables.stateChanged)",
            "'status.state is written by the aigov operator only, and status.records by people only'",
        ),
    )


def _violations(config: Config) -> str:
    return " + ".join(f"({r.condition} ? ['{r.code}: ' + {r.message}] : [])" for r in rules(config))


def exception_policy(config: Config) -> dict[str, Any]:
    """The ValidatingAdmissionPolicy binding AIGovException requests and records to identities."""
    return vap.policy(
        POLICY_NAME,
        [vap.resource_rule(EXCEPTION_PLURAL, "CREATE"), vap.resource_rule(f"{EXCEPTION_PLURAL}/status", "UPDATE")],
        [*_variables(config), ("violations", _violations(config))],
        [
            {
                "expression": "size(variables.violations) == 0",
                "messageExpression": "variables.violations.join('; ')",
                "message": "aigov: this exception write breaks a record rule (see docs/exceptions.md)",
                "reason": "Forbidden",
            }
        ],
    )


def exception_policy_binding() -> dict[str, Any]:
    """The binding that makes the exception policy deny."""
    return vap.policy_binding(POLICY_NAME)


def manifests(config: Config) -> list[dict[str, Any]]:
    """The policy and its binding."""
    return [exception_policy(config), exception_policy_binding()]
