# The violations. Each rule's METADATA carries its stable code and the ISO/IEC
# 42001 Annex A control; `_violation` reads them with rego.metadata.rule(), so
# the code is written once. `short` (at most 120 characters once prefixed with
# the code) becomes the warning in `warn` mode.
package aigov.admission

_violation(metadata, message, short) := {
	"code": metadata.custom.code,
	"control": metadata.custom.control,
	"message": message,
	"short": short,
}

_label := _config.systemLabel

_namespace := input.request.namespace

_name := input.request.name if input.request.name != ""

else := concat("", [object.get(_object, ["metadata", "generateName"], ""), "*"])

# kubectl-style reference to the object under review, e.g. `deployments/llm`.
_subject := sprintf("%s/%s", [input.request.resource.resource, _name])

_assess_command := sprintf(
	"kubectl aigov assess %s --file <document> --residual-risk <low|medium|high> --expires 365d",
	[_cli_target],
)

_approve_command := sprintf("kubectl aigov approve %s --role <role> --expires 180d --justification \"...\"", [_cli_target])

# METADATA
# title: AI workload without an AISystem
# description: An AI workload (by image, accelerator or kind) carries no system label.
# custom:
#   code: AIGOV_UNGOVERNED
#   control: A.4.2
deny contains _violation(rego.metadata.rule(), message, short) if {
	_workload_review
	not _system_name
	_ai_workload
	message := sprintf(
		"%s in namespace %s is an AI workload (%s) but has no %s label. Register the system as an AISystem in namespace %s and label the workload or its pod template %s=<name>; `kubectl get aisystems -n %s` lists the registered ones.",
		[_subject, _namespace, concat(", ", sort(_ai_evidence)), _label, _namespace, _label, _namespace],
	)
	short := sprintf("%s is an AI workload without label %s; register an AISystem and add the label", [_subject, _label])
}

# METADATA
# title: Unknown AISystem
# description: The system label names no AISystem in the workload's namespace.
# custom:
#   code: AIGOV_SYSTEM_NOT_FOUND
#   control: A.4.2
deny contains _violation(rego.metadata.rule(), message, short) if {
	_workload_review
	_system_name
	not _system
	message := sprintf(
		"%s is labelled %s=%s but namespace %s has no AISystem %q. Create it (kubectl apply -f <aisystem>.yaml) or correct the label; `kubectl get aisystems -n %s` lists the registered ones.",
		[_subject, _label, _system_name, _namespace, _system_name, _namespace],
	)
	short := sprintf("no AISystem %q in namespace %s; create it or fix the %s label", [_system_name, _namespace, _label])
}

# METADATA
# title: Prohibited system
# description: The system's risk tier may never be deployed (EU AI Act Art. 5), or is unknown.
# custom:
#   code: AIGOV_PROHIBITED
#   control: A.9.4
deny contains _violation(rego.metadata.rule(), message, short) if {
	_system
	not _requirement.deployable
	message := sprintf(
		"%s has risk tier %q, which may never run (%s). Remove %s; if the tier is wrong, correct spec.riskTier after a new impact assessment.",
		[_system_ref, _tier, _tier_reason, _subject],
	)
	short := sprintf("AISystem %q has risk tier %q and may never run", [_system.metadata.name, _tier])
}

_tier_reason := "EU AI Act Art. 5 prohibited practice" if _tier == "prohibited"

else := "the aigov configuration does not allow this tier to be deployed"

# METADATA
# title: Retired system
# description: The system was retired by an approver, or its life-cycle stage is retired.
# custom:
#   code: AIGOV_RETIRED
#   control: A.6.2.5
deny contains _violation(rego.metadata.rule(), message, short) if {
	_retired
	message := sprintf(
		"%s is retired (%s), so its workloads may not run. Delete %s%s.",
		[_system_ref, _retired_how, _subject, _return_to_service],
	)
	short := sprintf("AISystem %q is retired; its workloads may not run", [_system.metadata.name])
}

# METADATA
# title: Suspended system
# description: The system is suspended; only scaling to zero and deletion are allowed.
# custom:
#   code: AIGOV_SUSPENDED
#   control: A.6.2.6
deny contains _violation(rego.metadata.rule(), message, short) if {
	_suspended
	not _stopped
	suspension := _system.status.suspension
	message := sprintf(
		"%s is suspended since %s (reason: %s); only scaling its workloads to zero and deleting them are allowed. After review, resume it: kubectl aigov resume %s --justification \"...\"",
		[
			_system_ref, object.get(suspension, "since", "an unknown time"),
			object.get(suspension, "reason", "not recorded"), _cli_target,
		],
	)
	short := sprintf("AISystem %q is suspended; scale to 0, or resume: kubectl aigov resume %s", [_system.metadata.name, _cli_target])
}

# METADATA
# title: Relabelled away from a suspended system
# description: A workload's system label may not change while the system it leaves is suspended.
# custom:
#   code: AIGOV_SUSPENDED
#   control: A.6.2.6
deny contains _violation(rego.metadata.rule(), message, short) if {
	_workload_review
	_left_system.status.suspension.active == true
	message := sprintf(
		"%s is bound to AISystem %q, which is suspended; its %s label may not change until that system is resumed (kubectl aigov resume %s -n %s --justification \"...\").",
		[_subject, _left_system.metadata.name, _label, _left_system.metadata.name, _namespace],
	)
	short := sprintf("AISystem %q is suspended; %s may not leave it", [_left_system.metadata.name, _subject])
}

# The AISystem an UPDATE relabels the workload away from (the caller sends it as input.leftAISystem).
_left_system := input.leftAISystem if {
	_old_system_name
	not _old_system_name == _system_name
	input.leftAISystem.metadata.name == _old_system_name
}

_old_system_name := [name |
	some path in _label_paths
	some labels in _at(input.request.oldObject, path)
	name := _label_value(labels)
][0]

# METADATA
# title: Impact assessment missing
# description: The tier requires a completed impact assessment and there is none.
# custom:
#   code: AIGOV_ASSESSMENT_MISSING
#   control: A.5.2
deny contains _violation(rego.metadata.rule(), message, short) if {
	_needs_assessment
	not _assessment_completed
	message := sprintf(
		"%s has no completed impact assessment%s; risk tier %q requires one. An assessor records it: %s",
		[_system_ref, _rejected_note, _tier, _assess_command],
	)
	short := sprintf("AISystem %q has no completed impact assessment; kubectl aigov assess %s", [_system.metadata.name, _cli_target])
}

# A system that may never run needs no further paperwork: AIGOV_PROHIBITED says it all.
_needs_assessment if {
	_system
	_assessment_required
}

_assessment_required if {
	_requirement.deployable == true
	object.get(_requirement, "requireAssessment", true)
}

_rejected_note := " (the last one was rejected)" if _assessment.status == "rejected"

else := ""

# METADATA
# title: Impact assessment expired
# description: The completed impact assessment has expired.
# custom:
#   code: AIGOV_ASSESSMENT_EXPIRED
#   control: A.5.2
deny contains _violation(rego.metadata.rule(), message, short) if {
	_needs_assessment
	_assessment_completed
	not _assessment_fresh
	message := sprintf(
		"The impact assessment of %s expired at %s. An assessor re-assesses the system: %s",
		[_system_ref, object.get(_assessment, "expiresAt", "(no expiresAt recorded)"), _assess_command],
	)
	short := sprintf("impact assessment of AISystem %q expired; kubectl aigov assess %s", [_system.metadata.name, _cli_target])
}

# Exactly one of MISSING (none completed), EXPIRED (completed, expired) and STALE
# (completed, unexpired, made for another tier) applies; an assessment without
# `riskTier` is never stale.

# METADATA
# title: Impact assessment stale
# description: The completed impact assessment was made for another risk tier than the system's current one.
# custom:
#   code: AIGOV_ASSESSMENT_STALE
#   control: A.5.2
deny contains _violation(rego.metadata.rule(), message, short) if {
	_needs_assessment
	_assessment_stale
	message := sprintf(
		"The impact assessment of %s was made for risk tier %q; the system is now risk tier %q, so it no longer counts. An assessor re-assesses the system: %s",
		[_system_ref, _assessment.riskTier, _tier, _assess_command],
	)
	short := sprintf("AISystem %q assessed for tier %q, now %q; kubectl aigov assess %s", [
		_system.metadata.name, _assessment.riskTier, _tier, _cli_target,
	])
}

# METADATA
# title: Approvals missing
# description: Too few valid approvals for the tier (count, distinct approvers, required roles).
# custom:
#   code: AIGOV_APPROVAL_MISSING
#   control: A.6.2.5
deny contains _violation(rego.metadata.rule(), message, short) if {
	_system
	not _suffice(_valid_approvals)
	not _suffice(_approvals)
	message := sprintf(
		"%s has %d valid approval(s); risk tier %q needs %s%s%s. An approver records one: %s",
		[
			_system_ref, count(_valid_approvals), _tier, _requirement_text, _missing_roles_note,
			_outdated_note, _approve_command,
		],
	)
	short := sprintf("AISystem %q lacks approvals (%d of %d); kubectl aigov approve %s", [
		_system.metadata.name, count(_valid_approvals), _requirement.minApprovals, _cli_target,
	])
}

_requirement_text := sprintf("%d approval(s) from distinct approvers", [_requirement.minApprovals]) if {
	count(_required_roles) == 0
} else := sprintf("%d approval(s) from distinct approvers, including role(s) %s", [
	_requirement.minApprovals,
	concat(", ", sort(_required_roles)),
])

_missing_roles_note := sprintf(" (no valid approval with role %s)", [concat(", ", sort(_missing_roles(_valid_approvals)))]) if {
	count(_missing_roles(_valid_approvals)) > 0
} else := ""

_outdated_note := sprintf(
	" (the approvals by %s were for an earlier spec: purpose, risk tier, models, images, drift checks or classification changed)",
	[concat(", ", sort(_outdated))],
) if {
	count(_outdated) > 0
} else := ""

# METADATA
# title: Approvals expired
# description: Enough approvals would exist if expired ones counted.
# custom:
#   code: AIGOV_APPROVAL_EXPIRED
#   control: A.6.2.5
deny contains _violation(rego.metadata.rule(), message, short) if {
	_system
	not _suffice(_valid_approvals)
	_suffice(_approvals)
	expired := sort([sprintf("%s at %s", [entry.approver, object.get(entry, "expiresAt", "(no expiresAt)")]) |
		some entry in _approvals
		not entry in _valid_approvals
	])
	message := sprintf(
		"Approvals of %s have expired (%s); risk tier %q needs %s. The approvers renew them: %s",
		[_system_ref, concat("; ", expired), _tier, _requirement_text, _approve_command],
	)
	short := sprintf("approvals of AISystem %q expired; renew: kubectl aigov approve %s", [_system.metadata.name, _cli_target])
}

# METADATA
# title: Image not approved
# description: A container image is not covered by enough valid approvals for the tier.
# custom:
#   code: AIGOV_IMAGE_NOT_APPROVED
#   control: A.6.2.5
deny contains _violation(rego.metadata.rule(), message, short) if {
	_system
	some image in _images
	not _image_approved(image)
	message := sprintf("Image %s of %s is not approved for %s: %s", [image, _subject, _system_ref, _image_fix(image)])
	short := sprintf("image %s is not approved for AISystem %q", [image, _system.metadata.name])
}

_image_fix(image) := sprintf(
	"the valid approvals that list it do not amount to %s. Approvers approve the current spec.images: %s",
	[_requirement_text, _approve_command],
) if {
	_listed_in_spec(image)
} else := sprintf(
	"it is not in the system's spec.images. Add it there, then have it approved: %s",
	[_approve_command],
)

# METADATA
# title: Image not pinned
# description: The tier requires images by digest and a container image has no @sha256 digest.
# custom:
#   code: AIGOV_IMAGE_NOT_PINNED
#   control: A.6.2.4
deny contains _violation(rego.metadata.rule(), message, short) if {
	_system
	_requirement.requirePinnedImages == true
	some image in _images
	not _pinned(image)
	message := sprintf(
		"Image %s of %s is not pinned by digest; %s has risk tier %q, whose workloads must run images by digest. Use %s@sha256:<digest> (find it with `crane digest %s`) and list that reference in spec.images.",
		[image, _subject, _system_ref, _tier, image, image],
	)
	short := sprintf("image %s has no @sha256 digest (risk tier %q requires pinning)", [image, _tier])
}

# METADATA
# title: EU AI Act classification missing
# description: The tier requires the EU AI Act classification record (and a provider's EU database registration ID).
# custom:
#   code: AIGOV_CLASSIFICATION_MISSING
#   control: A.5.2
deny contains _violation(rego.metadata.rule(), message, short) if {
	_system
	_requirement.deployable == true
	count(_classification_missing) > 0
	missing := concat(", ", sort(_classification_missing))
	message := sprintf(
		"%s has risk tier %q, which requires the EU AI Act classification record; missing: %s. Record in spec.classification the organisation's roles, the classification rationale (Art. 6) and, for a provider, the EU database registration ID (Art. 49).",
		[_system_ref, _tier, missing],
	)
	short := sprintf("AISystem %q lacks %s (risk tier %q)", [_system.metadata.name, missing, _tier])
}

# What the tier's `requireClassification` asks of spec.classification and the spec lacks
# (same as aigov/core/lifecycle.py `missing_declarations`).
_classification_missing contains "spec.classification" if {
	_requirement.requireClassification == true
	not is_object(object.get(_record, ["spec", "classification"], null))
}

_classification_missing contains "spec.classification.euDatabaseId" if {
	_requirement.requireClassification == true
	classification := _record.spec.classification
	"provider" in object.get(classification, "roles", [])
	object.get(classification, "euDatabaseId", "") == ""
}

# METADATA
# title: Model not pinned
# description: The tier requires model digests and a model in spec.models has none.
# custom:
#   code: AIGOV_MODEL_NOT_PINNED
#   control: A.6.2.5
deny contains _violation(rego.metadata.rule(), message, short) if {
	_system
	_requirement.deployable == true
	some name in _models_without_digest
	message := sprintf(
		"Model %s of %s has no digest; risk tier %q requires every model in spec.models to name its artifact's digest. Add spec.models[].digest (e.g. sha256:<hex> of the model files), then have the system re-approved: %s",
		[name, _system_ref, _tier, _approve_command],
	)
	short := sprintf("model %s of AISystem %q has no digest (risk tier %q requires one)", [name, _system.metadata.name, _tier])
}

# Models the tier's `requireModelDigests` wants a digest of (same as aigov/core/lifecycle.py `missing_declarations`).
_models_without_digest contains model.name if {
	_requirement.requireModelDigests == true
	some model in object.get(_record, ["spec", "models"], [])
	object.get(model, "digest", "") == ""
}
