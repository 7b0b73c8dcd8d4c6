# The AISystem under review and the facts read from its records. Same meaning as
# aigov/lifecycle.py: an approver's entry that counts is their last one in
# `status.approvals` (append-only); it is valid when `approved` and unexpired.
# The assessments are the legacy `status.impactAssessment` (first) and the
# append-only `status.assessments`; an assessor's last entry counts. The decisive
# one is the last rejection among those, else the last entry. The assessment is
# valid when the decisive one is completed, unexpired and not stale (made for
# another risk tier than `spec.riskTier`).
# The violations read `_system`; the facts read `_record`, which is also defined
# when the AISystem itself is created or updated (aisystem.rego warns about it).
package aigov.admission

# The AISystem the request is judged against: the one the workload's label names
# (in the workload's namespace), or for a `scale` request the one resolved from
# the scaled workload by the caller.
_system := input.aisystem if {
	_workload_review
	input.aisystem.metadata.name == _system_name
	object.get(input.aisystem.metadata, "namespace", input.request.namespace) == input.request.namespace
}

_system := input.aisystem if _scale_review

# The AISystem the facts below are read from: the one a workload is judged
# against, or the AISystem being created or updated.
_record := _system

_record := _object if _aisystem_review

_system_ref := sprintf("AISystem %q in namespace %s", [_system.metadata.name, input.request.namespace])

# `-n <namespace>` argument for the commands the messages suggest.
_cli_target := sprintf("%s -n %s", [_record.metadata.name, input.request.namespace])

_tier := object.get(_record, ["spec", "riskTier"], "")

# Unknown tiers are not deployable.
_requirement := requirement if {
	requirement := _config.tiers[_tier]
} else := {"deployable": false, "requireAssessment": true, "minApprovals": 0, "requiredRoles": []}

_now_ns := time.parse_rfc3339_ns(input.now)

_day_ns := ((24 * 60) * 60) * 1000000000

_unexpired(record) if time.parse_rfc3339_ns(record.expiresAt) > _now_ns

_legacy_assessment := [record] if {
	record := _record.status.impactAssessment
	is_object(record)
} else := []

_listed_assessments := entries if {
	entries := _record.status.assessments
	is_array(entries)
} else := []

_assessment_entries := array.concat(_legacy_assessment, _listed_assessments)

# Indices of rejections that are their assessor's last entry: a rejection stands
# until the same assessor records a later entry.
_standing_rejections := [i |
	some i, entry in _assessment_entries
	entry.status == "rejected"
	not _assessment_superseded(i, entry.assessor)
]

_assessment_superseded(i, assessor) if {
	some j, later in _assessment_entries
	j > i
	later.assessor == assessor
}

_assessment := _assessment_entries[max(_standing_rejections)] if {
	count(_standing_rejections) > 0
} else := _assessment_entries[count(_assessment_entries) - 1] if {
	count(_assessment_entries) > 0
}

_assessment_completed if _assessment.status == "completed"

# A completed, unexpired assessment made for another risk tier than the system's
# current one: a tier change sends the system back to assessment. Records without
# `riskTier` (written before aigov recorded the tier) are never stale.
# (A null `riskTier` is no tier: the API server drops nulls anyway.)
_assessment_stale if {
	_assessment_completed
	_assessment_fresh
	is_string(_assessment.riskTier)
	_assessment.riskTier != _tier
}

_assessment_valid if {
	_assessment_completed
	_assessment_fresh
	not _assessment_stale
}

# Unexpired, and expiring within the tier's maximum term from now (an expiry
# further ahead, or one OPA cannot represent, counts as expired).
_assessment_fresh if {
	_unexpired(_assessment)
	time.parse_rfc3339_ns(_assessment.expiresAt) <= _now_ns + (object.get(_requirement, "maxAssessmentDays", 366) * _day_ns)
}

_approval_entries := entries if {
	entries := _record.status.approvals
	is_array(entries)
} else := []

# Each approver's last entry.
_counted contains entry if {
	some i, entry in _approval_entries
	not _superseded(i, entry.approver)
}

_superseded(i, approver) if {
	some j, later in _approval_entries
	j > i
	later.approver == approver
}

# Approvals whether or not they have expired; then the valid ones. An approval by
# the current owner or the current assessor never counts (separation of duties,
# decided from the current record: editing spec.owner around an approval, or
# assessing after approving, does not help).
_approvals contains entry if {
	some entry in _counted
	entry.decision == "approved"
	is_string(entry.approver)
	not lower(entry.approver) in _barred
	_within_max_term(entry)
	_for_current_spec(entry)
}

# An approval recorded with a `specHash` counts only for the spec it approved: the
# input carries the current spec's hash (`input.specHash`, computed by the input
# builder with aigov.core.digests.spec_hash; never recomputed here). Approvals
# recorded without one (before aigov wrote it) are judged as before.
_for_current_spec(entry) if not "specHash" in object.keys(entry)

_for_current_spec(entry) if entry.specHash == input.specHash

# Counted approvals that no longer count because the spec changed since (for the messages).
_outdated contains entry.approver if {
	some entry in _counted
	entry.decision == "approved"
	not _for_current_spec(entry)
}

# An approval expiring beyond the tier's maximum term from now never counts (nor
# one whose expiry OPA cannot represent, past the year 2262).
_within_max_term(entry) if {
	time.parse_rfc3339_ns(entry.expiresAt) <= _now_ns + (object.get(_requirement, "maxApprovalDays", 366) * _day_ns)
}

_barred contains lower(name) if {
	some name in array.concat(
		[object.get(_record, ["spec", "owner", "name"], ""), object.get(_record, ["spec", "owner", "email"], "")],
		[object.get(entry, "assessor", "") | some entry in _assessment_entries],
	)
	is_string(name)
	name != ""
}

_valid_approvals contains entry if {
	some entry in _approvals
	_unexpired(entry)
}

_required_roles := {role | some role in object.get(_requirement, "requiredRoles", [])}

_missing_roles(approvals) := _required_roles - {entry.role | some entry in approvals}

# `approvals` meet the tier's requirement: enough of them (distinct approvers by
# construction) and every required role held by one of them.
_suffice(approvals) if {
	count(approvals) >= object.get(_requirement, "minApprovals", 0)
	count(_missing_roles(approvals)) == 0
}

# Only images listed in spec.images can be approved, whatever an approval lists;
# a tier that needs no approval (prohibited: AIGOV_PROHIBITED says it all) approves nothing.
_image_approved(_) if object.get(_requirement, "minApprovals", 0) == 0

_image_approved(image) if {
	_listed_in_spec(image)
	_approved_by_enough(image)
}

_approved_by_enough(image) if _suffice({entry |
	some entry in _valid_approvals
	some approved in object.get(entry, "images", [])
	_covers(approved, image)
})

_listed_in_spec(image) if {
	some listed in object.get(_record, ["spec", "images"], [])
	_covers(listed, image)
}

_suspended if _system.status.suspension.active == true

_retired if _system.spec.lifecycle.stage == "retired"

_retired if is_object(_system.status.retirement)

# How the system came to be retired; a retirement record is final.
_retired_how := sprintf("retired by %s at %s", [_system.status.retirement.retiredBy, _system.status.retirement.retiredAt]) if {
	is_object(_system.status.retirement)
} else := "spec.lifecycle.stage: retired"

_return_to_service := "" if is_object(_system.status.retirement)

else := ", or return the system to service by changing spec.lifecycle.stage"
