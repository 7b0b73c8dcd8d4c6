# Warnings about an AISystem being created or updated; never a deny.
package aigov.admission_test

import data.aigov.admission

vllm_repinned := "vllm/vllm-openai@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

with_images(system, images) := object.union(system, {"spec": {"images": images}})

# The review of writing `system` (the webhook passes the object as `aisystem` too).
write_review(operation, system, labels) := review_in(request(operation, system), system, labels)

# Updating `old` to `new`: the new object carries the status on record.
update_review(old, new) := review(object.union(update(new), {"oldObject": old}), new)

aisystem_warnings(input_document) := decide(input_document).warnings

test_unpinned_images_of_a_high_risk_system if {
	system := aisystem({"riskTier": "high", "images": [vllm, vllm_pinned]}, {})
	d := decide(write_review("CREATE", system, {}))
	d == {"allowed": true, "mode": "enforce", "violations": [], "waived": [], "warnings": [
		"vllm/vllm-openai:v0.6.0 is not pinned by digest: workloads using it will be denied (AIGOV_IMAGE_NOT_PINNED)",
	]}
}

test_pinning_follows_the_tier_configuration if {
	aisystem_warnings(write_review("CREATE", aisystem({}, {}), {})) == []
	cfg := json.patch(data.testdata.config, [{"op": "replace", "path": "/tiers/minimal/requirePinnedImages", "value": true}])
	d := decide_config(write_review("UPDATE", aisystem({}, {}), {}), cfg)
	d.warnings == ["vllm/vllm-openai:v0.6.0 is not pinned by digest: workloads using it will be denied (AIGOV_IMAGE_NOT_PINNED)"]
}

test_prohibited_system if {
	system := aisystem({"riskTier": "prohibited"}, {})
	aisystem_warnings(write_review("CREATE", system, {})) == [
		"riskTier \"prohibited\" may never run: workloads referencing this AISystem will be denied (AIGOV_PROHIBITED)",
	]
}

test_tier_the_configuration_does_not_know if {
	system := aisystem({"riskTier": "experimental"}, {})
	aisystem_warnings(write_review("CREATE", system, {})) == [
		"riskTier \"experimental\" may never run: workloads referencing this AISystem will be denied (AIGOV_PROHIBITED)",
	]
}

test_outcome_follows_the_namespace_mode if {
	system := aisystem({"riskTier": "prohibited"}, {})
	d := decide(write_review("CREATE", system, {"aigov.io/enforcement": "warn"}))
	d.allowed
	d.warnings == [
		"riskTier \"prohibited\" may never run: workloads referencing this AISystem will be flagged (AIGOV_PROHIBITED)",
	]
	decide(write_review("CREATE", system, {"aigov.io/enforcement": "audit"})).warnings == d.warnings
	decide(write_review("CREATE", system, {"aigov.io/enforcement": "off"})).warnings == []
}

test_image_no_longer_covered_by_the_approvals if {
	changed := with_images(approved_high, [vllm_repinned])
	d := decide(update_review(approved_high, changed))
	d.allowed
	d.violations == []
	d.warnings == [
		"workloads with vllm/vllm-openai@sha256:fedcba987654 will be denied until re-approved: kubectl aigov approve chat -n ml",
	]
	every w in d.warnings {
		count(w) <= 120
	}
}

test_images_the_approvals_still_cover if {
	# The approval lists vllm:v0.6.0, which covers that tag pinned by any digest.
	pinned_tag := sprintf("%s@%s", [vllm, digest])
	aisystem_warnings(update_review(approved, with_images(approved, [vllm, pinned_tag]))) == []
}

test_no_reapproval_warning_without_valid_approvals if {
	unapproved := aisystem({}, {})
	aisystem_warnings(update_review(unapproved, with_images(unapproved, ["vllm/vllm-openai:v0.7.0"]))) == []
	lapsed := with_status(approved, {"approvals": [approval("alice", "ml-lead", "approved", expired, [vllm])]})
	aisystem_warnings(update_review(lapsed, with_images(lapsed, ["vllm/vllm-openai:v0.7.0"]))) == []
}

test_no_reapproval_warning_for_images_already_listed if {
	# The unapproved image was there before this update: the update changed nothing for it.
	listed := with_images(approved, [vllm, "vllm/vllm-openai:v0.7.0"])
	aisystem_warnings(update_review(listed, object.union(listed, {"spec": {"purpose": "chat"}}))) == []
	aisystem_warnings(review(create(listed), listed)) == []
}

assessed_high := with_status(approved_high, {"impactAssessment": assessed_for("high", valid_until)})

lowered := object.union(assessed_high, {"spec": {"riskTier": "minimal"}})

stale_warning := "riskTier changed from \"high\" to \"minimal\": workloads will be denied until re-assessed (AIGOV_ASSESSMENT_STALE)"

test_tier_change_makes_the_assessment_stale if {
	d := decide(update_review(assessed_high, lowered))
	d.allowed
	d.violations == []
	d.warnings == [stale_warning]
	count(stale_warning) <= 120
	warned := decide(object.union(update_review(assessed_high, lowered), {"namespace": {"labels": {"aigov.io/enforcement": "warn"}}}))
	warned.warnings == [replace(stale_warning, "denied", "flagged")]
}

test_no_stale_warning if {
	# Back to the assessed tier; no tier change; a create.
	aisystem_warnings(update_review(lowered, assessed_high)) == []
	aisystem_warnings(update_review(assessed_high, object.union(assessed_high, {"spec": {"purpose": "chat"}}))) == []
	aisystem_warnings(write_review("CREATE", lowered, {})) == []

	# No completed, unexpired assessment with a tier: nothing becomes stale.
	legacy := approved_high
	aisystem_warnings(update_review(legacy, object.union(legacy, {"spec": {"riskTier": "minimal"}}))) == []
	lapsed := with_status(lowered, {"impactAssessment": {"expiresAt": expired}})
	aisystem_warnings(update_review(assessed_high, lapsed)) == []
	unassessed := with_status(lowered, {"impactAssessment": null})
	aisystem_warnings(update_review(assessed_high, unassessed)) == []

	# A new tier that needs no assessment, or may never run (AIGOV_PROHIBITED says it).
	cfg := object.union(data.testdata.config, {"tiers": {"minimal": {"requireAssessment": false}}})
	decide_config(update_review(assessed_high, lowered), cfg).warnings == []
	prohibited := object.union(assessed_high, {"spec": {"riskTier": "prohibited"}})
	aisystem_warnings(update_review(assessed_high, prohibited)) == [
		"riskTier \"prohibited\" may never run: workloads referencing this AISystem will be denied (AIGOV_PROHIBITED)",
	]
}

test_an_aisystem_is_never_denied if {
	broken := aisystem({"riskTier": "high", "lifecycle": {"stage": "retired"}}, {
		"impactAssessment": assessment("rejected", expired),
		"suspension": {"active": true},
	})
	d := decide(write_review("CREATE", broken, {}))
	d.allowed
	d.violations == []
}

test_expiry_warnings_when_the_aisystem_is_edited if {
	system := aisystem({}, {
		"impactAssessment": assessment("completed", expiring),
		"approvals": [approval("alice", "ml-lead", "approved", valid_until, [vllm])],
	})
	aisystem_warnings(write_review("UPDATE", system, {})) == [
		"AISystem \"chat\": impact assessment expires 2026-01-05; renew: kubectl aigov assess chat -n ml",
	]
}

test_not_reviewed_aisystem_requests if {
	system := aisystem({"riskTier": "prohibited"}, {})
	aisystem_warnings(review(object.union(update(system), {"subResource": "status"}), system)) == []
	aisystem_warnings(review(request("DELETE", system), system)) == []
	deleting := object.union(system, {"metadata": {"deletionTimestamp": now}})
	aisystem_warnings(write_review("UPDATE", deleting, {})) == []
	other := object.union(system, {"apiVersion": "example.com/v1"})
	aisystem_warnings(write_review("CREATE", other, {})) == []
}

test_display_of_long_references if {
	admission._display(vllm_repinned) == "vllm/vllm-openai@sha256:fedcba987654"
	admission._display(sprintf("%s@%s", [vllm, digest])) == "...llm-openai:v0.6.0@sha256:0123456789ab"
	admission._display("registry.example.com/platform/ml/serving/llm:v1.2.3") == "...le.com/platform/ml/serving/llm:v1.2.3"
	admission._display("vllm/vllm-openai@md5:abc") == "vllm/vllm-openai@md5:abc"
	admission._display(vllm) == vllm
}

# Appending an assessment with `digest` to the assessments `earlier` (a status write).
assessment_write(earlier, digest) := review(
	object.union(request("UPDATE", with_status(approved, {"assessments": array.concat(earlier, [{"sha256": digest}])})), {
		"subResource": "status",
		"oldObject": aisystem({}, {"assessments": earlier}),
	}),
	approved,
)

placeholder_warning(reason) := sprintf(
	"assessment sha256 looks typed (%s): compute it with kubectl aigov assess --file <doc>",
	[reason],
)

# One table with aigov/core/digests.py (tests/unit/test_digests.py reads it too).
test_placeholder_digests_warn if {
	placeholders := [case | some case in data.testdata.placeholders.cases; case.reason != null]
	count(placeholders) > 0
	every case in placeholders {
		aisystem_warnings(assessment_write([], case.sha256)) == [placeholder_warning(case.reason)]
	}
}

test_computed_digests_do_not_warn if {
	computed := [case | some case in data.testdata.placeholders.cases; case.reason == null]
	count(computed) > 0
	every case in computed {
		aisystem_warnings(assessment_write([], case.sha256)) == []
	}
}

zeros := "0000000000000000000000000000000000000000000000000000000000000000"

computed_digest := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

test_only_the_appended_assessment_is_checked if {
	aisystem_warnings(assessment_write([{"sha256": zeros}], computed_digest)) == []
	aisystem_warnings(assessment_write([{"sha256": computed_digest}], zeros)) == [placeholder_warning("one character repeated")]
}

test_an_unclassified_high_risk_system_warns if {
	system := json.remove(aisystem({"riskTier": "high", "images": [vllm_pinned]}, {}), ["spec/classification"])
	aisystem_warnings(write_review("CREATE", system, {})) == [
		"riskTier \"high\" needs spec.classification: workloads will be denied (AIGOV_CLASSIFICATION_MISSING)",
	]
}

test_a_spec_change_names_the_approvals_it_voids if {
	old := object.union(approved, {"status": {"approvals": [object.union(approved.status.approvals[0], {"specHash": spec_a})]}})
	new := object.union(old, {"spec": {"purpose": "scores job applicants"}})
	document := object.union(update_review(old, new), {"specHash": spec_b, "oldSpecHash": spec_a})
	aisystem_warnings(document) == [
		"spec change voids the approvals by alice: workloads will be denied until re-approved: kubectl aigov approve chat -n ml",
	]
	aisystem_warnings(object.union(update_review(old, new), {"specHash": spec_a, "oldSpecHash": spec_a})) == []
}
