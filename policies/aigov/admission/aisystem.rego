# AISystems: what creating or updating one means for the workloads that will
# reference it, said at `kubectl apply` (or GitOps sync) time. Only warnings,
# added to the decision's: an AISystem is always admitted, and its webhook
# ignores failures.
package aigov.admission

_warnings contains _truncate(text) if some text in _aisystem_warnings

# What happens to a workload with a violation in this namespace.
_outcome := "denied" if mode == "enforce"

else := "flagged"

_aisystem_warnings contains sprintf(
	"riskTier %q may never run: workloads referencing this AISystem will be %s (AIGOV_PROHIBITED)",
	[_tier, _outcome],
) if {
	_aisystem_review
	not _requirement.deployable
}

_aisystem_warnings contains sprintf(
	"%s is not pinned by digest: workloads using it will be %s (AIGOV_IMAGE_NOT_PINNED)",
	[_display(image), _outcome],
) if {
	_aisystem_review
	_requirement.requirePinnedImages == true
	some image in _spec_images
	not _pinned(image)
}

_aisystem_warnings contains sprintf(
	"riskTier %q needs %s: workloads will be %s (AIGOV_CLASSIFICATION_MISSING)",
	[_tier, concat(", ", sort(_classification_missing)), _outcome],
) if {
	_aisystem_review
	_requirement.deployable
	count(_classification_missing) > 0
}

# Images this update adds to spec.images that the valid approvals on record do
# not cover (the approvals list the images they approved).
_aisystem_warnings contains sprintf(
	"workloads with %s will be %s until re-approved: kubectl aigov approve %s",
	[_display(image), _outcome, _cli_target],
) if {
	_aisystem_review
	input.request.operation == "UPDATE"
	count(_valid_approvals) > 0
	old_images := object.get(input.request.oldObject, ["spec", "images"], [])
	some image in _spec_images
	not image in old_images
	not _image_approved(image)
}

# An update of what the approvals approved (purpose, risk tier, models, images,
# drift checks, classification): the approvals recorded for the spec before it
# (`input.oldSpecHash`, from the input builder) no longer count.
_aisystem_warnings contains sprintf(
	"spec change voids the approvals by %s: workloads will be %s until re-approved: kubectl aigov approve %s",
	[concat(", ", sort(voided)), _outcome, _cli_target],
) if {
	_aisystem_review
	input.request.operation == "UPDATE"
	is_string(input.oldSpecHash)
	input.oldSpecHash != object.get(input, "specHash", "")
	voided := {entry.approver |
		some entry in _counted
		entry.decision == "approved"
		entry.specHash == input.oldSpecHash
		_unexpired(entry)
	}
	count(voided) > 0
}

# A tier change that makes the assessment on record stale (it was made for
# another tier than the new one): workloads need a re-assessment. Assessments
# without `riskTier` are never stale, so no warning for them.
_aisystem_warnings contains sprintf(
	"riskTier changed from %q to %q: workloads will be %s until re-assessed (AIGOV_ASSESSMENT_STALE)",
	[old_tier, _tier, _outcome],
) if {
	_aisystem_review
	input.request.operation == "UPDATE"
	old_tier := object.get(input.request.oldObject, ["spec", "riskTier"], "")
	old_tier != _tier
	_assessment_required
	_assessment_stale
}

_spec_images := object.get(_record, ["spec", "images"], [])

_display_max := 40

# An image as a warning shows it: a sha256 digest cut to 12 hex digits, and a
# reference still longer than `_display_max` cut at the front (the registry).
_display(ref) := _cut(short) if {
	[name, digest] := split(ref, "@")
	startswith(digest, "sha256:")
	short := concat("@", [name, substring(digest, 0, 19)])
} else := _cut(ref)

_cut(ref) := ref if count(ref) <= _display_max

else := concat("", ["...", substring(ref, count(ref) - (_display_max - 3), -1)])

# A person's write to the AISystem's status (the hook sees it only when it
# appends an impact assessment): an assessment recorded with a `sha256` that looks
# typed rather than computed from the document. Same rules as
# aigov/core/digests.py `placeholder` (one table tests both).
_status_review if {
	input.request.operation == "UPDATE"
	input.request.subResource == "status"
	input.request.kind.group == "aigov.io"
	input.request.kind.kind == "AISystem"
}

_aisystem_warnings contains sprintf(
	"assessment sha256 looks typed (%s): compute it with kubectl aigov assess --file <doc>",
	[reason],
) if {
	_status_review
	some entry in _new_assessments
	is_string(entry.sha256)
	reason := _placeholder(lower(entry.sha256))
}

# The entries a status write appends to the (append-only) assessments.
_new_assessments contains entry if {
	entries := object.get(_object, ["status", "assessments"], [])
	old := object.get(input.request, ["oldObject", "status", "assessments"], [])
	is_array(entries)
	is_array(old)
	some i, entry in entries
	i >= count(old)
}

_hex := "0123456789abcdef"

_placeholder_max_period := 8

# Why `digest` looks typed (the first rule that matches), undefined when it does not.
_placeholder(digest) := "the SHA-256 of an empty document" if {
	digest == crypto.sha256("")
} else := "one character repeated" if {
	count(digest) == 64
	count({c | some c in split(digest, "")}) == 1
} else := "a short pattern repeated" if {
	count(digest) == 64
	some period in numbers.range(2, _placeholder_max_period)
	every i in numbers.range(period, 63) {
		substring(digest, i, 1) == substring(digest, i - period, 1)
	}
} else := "a sequence of hex digits" if {
	count(digest) == 64
	steps := {(((indexof(_hex, substring(digest, i, 1)) - indexof(_hex, substring(digest, i - 1, 1))) + 16) % 16) |
		some i in numbers.range(1, 63)
	}
	steps in {{1}, {15}}
}
