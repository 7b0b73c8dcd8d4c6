# Every violation code, from the facts in the AISystem record.
package aigov.admission_test

chat := deployment(governed, [container(vllm)])

chat_pinned := deployment(governed, [container(vllm_pinned)])

only(d, code) if {
	not d.allowed
	codes(d) == {code}
}

message(d, code) := v.message if {
	some v in d.violations
	v.code == code
}

test_approved_system_allowed if {
	decide_create(chat, approved).allowed
	decide_create(chat_pinned, approved_high).allowed
}

test_ungoverned if {
	d := decide_create(deployment({}, [container(vllm)]), null)
	only(d, "AIGOV_UNGOVERNED")
	contains(message(d, "AIGOV_UNGOVERNED"), "label the workload or its pod template aigov.io/system=<name>")
}

test_system_not_found if {
	d := decide_create(chat, null)
	only(d, "AIGOV_SYSTEM_NOT_FOUND")
	contains(message(d, "AIGOV_SYSTEM_NOT_FOUND"), "namespace ml has no AISystem \"chat\"")
}

test_system_in_another_namespace_not_found if {
	elsewhere := object.union(approved, {"metadata": {"namespace": "other"}})
	only(decide_create(chat, elsewhere), "AIGOV_SYSTEM_NOT_FOUND")
}

test_system_with_another_name_not_found if {
	other := object.union(approved, {"metadata": {"name": "other"}})
	only(decide_create(chat, other), "AIGOV_SYSTEM_NOT_FOUND")
}

test_system_without_namespace_matches if {
	decide_create(chat, json.remove(approved, ["metadata/namespace"])).allowed
}

test_prohibited if {
	system := object.union(approved, {"spec": {"riskTier": "prohibited"}})
	d := decide_create(chat, system)
	only(d, "AIGOV_PROHIBITED")
	only(decide_create(chat, aisystem({"riskTier": "prohibited"}, {})), "AIGOV_PROHIBITED")
	contains(message(d, "AIGOV_PROHIBITED"), "EU AI Act Art. 5")
}

test_unknown_tier_not_deployable if {
	system := object.union(approved, {"spec": {"riskTier": "experimental"}})
	d := decide_create(chat, system)
	"AIGOV_PROHIBITED" in codes(d)
	contains(message(d, "AIGOV_PROHIBITED"), "does not allow this tier")
}

test_retired if {
	system := object.union(approved, {"spec": {"lifecycle": {"stage": "retired"}}})
	only(decide_create(chat, system), "AIGOV_RETIRED")
}

test_production_stage_allowed if {
	system := object.union(approved, {"spec": {"lifecycle": {"stage": "production"}}})
	decide_create(chat, system).allowed
}

suspended := with_status(approved, {"suspension": {"active": true, "since": now, "reason": "CheckBreached"}})

test_suspended if {
	d := decide_create(chat, suspended)
	only(d, "AIGOV_SUSPENDED")
	contains(message(d, "AIGOV_SUSPENDED"), "kubectl aigov resume chat -n ml")
}

test_resumed_allowed if {
	decide_create(chat, with_status(approved, {"suspension": {"active": false}})).allowed
}

test_suspended_update_to_zero_replicas_allowed if {
	decide(review(update(object.union(chat, {"spec": {"replicas": 0}})), suspended)).allowed
	only(decide(review(update(chat), suspended)), "AIGOV_SUSPENDED")
}

test_suspended_scale_subresource if {
	decide(review(scale(0), suspended)).allowed
	only(decide(review(scale(3), suspended)), "AIGOV_SUSPENDED")
}

test_scale_to_zero_omits_replicas if {
	# autoscaling/v1 Scale drops `replicas: 0` (omitempty).
	decide(review(json.remove(scale(0), ["object/spec/replicas"]), suspended)).allowed
}

test_scale_checks_the_system if {
	decide(review(scale(3), approved)).allowed
	only(decide(review(scale(3), with_status(approved, {"approvals": []}))), "AIGOV_APPROVAL_MISSING")
}

test_scale_without_system_not_judged if {
	decide(review(scale(3), null)).allowed
}

test_suspended_stopped_job_and_inference_service_allowed if {
	suspended_job := object.union(job(governed, [container(vllm)]), {"spec": {"suspend": true}})
	decide_create(suspended_job, suspended).allowed
	suspended_cronjob := object.union(cronjob(governed, [container(vllm)]), {"spec": {"suspend": true}})
	decide_create(suspended_cronjob, suspended).allowed
	stopped := object.union(
		inference_service(governed, [container(vllm)]),
		{"metadata": {"annotations": {"serving.kserve.io/stop": "true"}}},
	)
	decide_create(stopped, suspended).allowed
	only(decide_create(inference_service(governed, [container(vllm)]), suspended), "AIGOV_SUSPENDED")
}

test_stopping_exempts_only_suspension if {
	expired_system := with_status(suspended, {"impactAssessment": assessment("completed", expired)})
	d := decide(review(update(object.union(chat, {"spec": {"replicas": 0}})), expired_system))
	only(d, "AIGOV_ASSESSMENT_EXPIRED")
}

test_assessment_missing if {
	d := decide_create(chat, with_status(approved, {"impactAssessment": null}))
	only(d, "AIGOV_ASSESSMENT_MISSING")
	contains(message(d, "AIGOV_ASSESSMENT_MISSING"), "kubectl aigov assess chat -n ml")
	only(decide_create(chat, json.remove(approved, ["status/impactAssessment"])), "AIGOV_ASSESSMENT_MISSING")
}

test_assessment_rejected if {
	d := decide_create(chat, with_status(approved, {"impactAssessment": assessment("rejected", valid_until)}))
	only(d, "AIGOV_ASSESSMENT_MISSING")
	contains(message(d, "AIGOV_ASSESSMENT_MISSING"), "(the last one was rejected)")
}

test_assessment_not_required_by_tier if {
	cfg := object.union(data.testdata.config, {"tiers": {"minimal": {"requireAssessment": false}}})
	decide_config(review(create(chat), json.remove(approved, ["status/impactAssessment"])), cfg).allowed
}

test_assessment_expired if {
	d := decide_create(chat, with_status(approved, {"impactAssessment": assessment("completed", expired)}))
	only(d, "AIGOV_ASSESSMENT_EXPIRED")
	contains(message(d, "AIGOV_ASSESSMENT_EXPIRED"), "expired at 2025-12-01T00:00:00Z")
}

test_assessment_without_expiry_is_expired if {
	system := json.remove(approved, ["status/impactAssessment/expiresAt"])
	only(decide_create(chat, system), "AIGOV_ASSESSMENT_EXPIRED")
}

# An assessment made for `tier`.
assessed_for(tier, expires_at) := object.union(assessment("completed", expires_at), {"riskTier": tier})

test_assessment_stale_after_a_tier_change if {
	# Assessed as high risk, then spec.riskTier lowered to minimal: the approval on
	# record would suffice for minimal, but the assessment no longer counts.
	d := decide_create(chat, with_status(approved, {"impactAssessment": assessed_for("high", valid_until)}))
	only(d, "AIGOV_ASSESSMENT_STALE")
	text := message(d, "AIGOV_ASSESSMENT_STALE")
	contains(text, "was made for risk tier \"high\"; the system is now risk tier \"minimal\"")
	contains(text, "kubectl aigov assess chat -n ml")
	some v in d.violations
	v.control == "A.5.2"
}

test_stale_assessment_in_warn_mode if {
	system := with_status(approved, {"impactAssessment": assessed_for("limited", valid_until)})
	d := decide(review_in(create(chat), system, {"aigov.io/enforcement": "warn"}))
	d.allowed
	d.warnings == ["AIGOV_ASSESSMENT_STALE: AISystem \"chat\" assessed for tier \"limited\", now \"minimal\"; kubectl aigov assess chat -n ml"]
}

test_assessment_for_the_current_tier_counts if {
	decide_create(chat, with_status(approved, {"impactAssessment": assessed_for("minimal", valid_until)})).allowed
	high := with_status(approved_high, {"impactAssessment": assessed_for("high", valid_until)})
	decide_create(chat_pinned, high).allowed
}

test_assessment_without_tier_keeps_its_meaning if {
	# Records written before aigov recorded the tier are judged on status and expiry alone.
	not approved.status.impactAssessment.riskTier
	decide_create(chat, approved).allowed
	decide_create(chat, with_status(approved, {"impactAssessment": {"riskTier": null}})).allowed
}

test_exactly_one_assessment_code if {
	# Expired and made for another tier: expired. Rejected for another tier: missing.
	expired_other := with_status(approved, {"impactAssessment": assessed_for("high", expired)})
	only(decide_create(chat, expired_other), "AIGOV_ASSESSMENT_EXPIRED")
	rejected := object.union(assessment("rejected", valid_until), {"riskTier": "high"})
	only(decide_create(chat, with_status(approved, {"impactAssessment": rejected})), "AIGOV_ASSESSMENT_MISSING")
}

test_stale_assessment_not_reported_when_the_tier_needs_none if {
	cfg := object.union(data.testdata.config, {"tiers": {"minimal": {"requireAssessment": false}}})
	system := with_status(approved, {"impactAssessment": assessed_for("high", valid_until)})
	decide_config(review(create(chat), system), cfg).allowed
	prohibited := object.union(system, {"spec": {"riskTier": "prohibited"}})
	only(decide_create(chat, prohibited), "AIGOV_PROHIBITED")
}

test_no_expiry_warning_for_a_stale_assessment if {
	system := with_status(approved, {"impactAssessment": assessed_for("high", expiring)})
	d := decide(review_in(create(chat), system, {"aigov.io/enforcement": "warn"}))
	d.warnings == ["AIGOV_ASSESSMENT_STALE: AISystem \"chat\" assessed for tier \"high\", now \"minimal\"; kubectl aigov assess chat -n ml"]
}

test_approval_missing if {
	d := decide_create(chat, with_status(approved, {"approvals": []}))
	codes(d) == {"AIGOV_APPROVAL_MISSING", "AIGOV_IMAGE_NOT_APPROVED"}
	contains(message(d, "AIGOV_APPROVAL_MISSING"), "has 0 valid approval(s); risk tier \"minimal\" needs 1 approval(s)")
}

test_approval_missing_without_status if {
	codes(decide_create(chat, object.remove(approved, ["status"]))) == {
		"AIGOV_ASSESSMENT_MISSING",
		"AIGOV_APPROVAL_MISSING",
		"AIGOV_IMAGE_NOT_APPROVED",
	}
}

test_high_risk_needs_two_distinct_approvers if {
	one := with_status(approved_high, {"approvals": [approval("alice", "risk-officer", "approved", valid_until, [vllm_pinned])]})
	d := decide_create(chat_pinned, one)
	codes(d) == {"AIGOV_APPROVAL_MISSING", "AIGOV_IMAGE_NOT_APPROVED"}
	twice := with_status(approved_high, {"approvals": [
		approval("alice", "risk-officer", "approved", valid_until, [vllm_pinned]),
		approval("alice", "risk-officer", "approved", valid_until, [vllm_pinned]),
	]})
	"AIGOV_APPROVAL_MISSING" in codes(decide_create(chat_pinned, twice))
}

test_high_risk_needs_the_required_role if {
	no_officer := with_status(approved_high, {"approvals": [
		approval("alice", "ml-lead", "approved", valid_until, [vllm_pinned]),
		approval("bob", "ml-lead", "approved", valid_until, [vllm_pinned]),
	]})
	d := decide_create(chat_pinned, no_officer)
	"AIGOV_APPROVAL_MISSING" in codes(d)
	contains(message(d, "AIGOV_APPROVAL_MISSING"), "including role(s) risk-officer (no valid approval with role risk-officer)")
}

test_latest_entry_per_approver_counts if {
	revoked := with_status(approved, {"approvals": [
		approval("alice", "ml-lead", "approved", valid_until, [vllm]),
		approval("alice", "ml-lead", "revoked", valid_until, []),
	]})
	"AIGOV_APPROVAL_MISSING" in codes(decide_create(chat, revoked))
	reapproved := with_status(approved, {"approvals": [
		approval("alice", "ml-lead", "revoked", valid_until, []),
		approval("alice", "ml-lead", "approved", valid_until, [vllm]),
	]})
	decide_create(chat, reapproved).allowed
}

test_approval_expired if {
	d := decide_create(chat, with_status(approved, {"approvals": [approval("alice", "ml-lead", "approved", expired, [vllm])]}))
	codes(d) == {"AIGOV_APPROVAL_EXPIRED", "AIGOV_IMAGE_NOT_APPROVED"}
	contains(message(d, "AIGOV_APPROVAL_EXPIRED"), "(alice at 2025-12-01T00:00:00Z)")
}

test_approval_partly_expired if {
	half := with_status(approved_high, {"approvals": [
		approval("alice", "risk-officer", "approved", expired, [vllm_pinned]),
		approval("bob", "ml-lead", "approved", valid_until, [vllm_pinned]),
	]})
	"AIGOV_APPROVAL_EXPIRED" in codes(decide_create(chat_pinned, half))
}

test_image_not_approved if {
	d := decide_create(deployment(governed, [container("vllm/vllm-openai:v0.7.0")]), approved)
	only(d, "AIGOV_IMAGE_NOT_APPROVED")
	contains(message(d, "AIGOV_IMAGE_NOT_APPROVED"), "it is not in the system's spec.images")
}

test_image_in_spec_but_not_yet_approved if {
	system := object.union(approved, {"spec": {"images": [vllm, "vllm/vllm-openai:v0.7.0"]}})
	d := decide_create(deployment(governed, [container("vllm/vllm-openai:v0.7.0")]), system)
	only(d, "AIGOV_IMAGE_NOT_APPROVED")
	contains(message(d, "AIGOV_IMAGE_NOT_APPROVED"), "Approvers approve the current spec.images")
}

test_image_needs_the_tier_requirement_among_its_approvers if {
	other := "vllm/vllm-openai@sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	split_approvals := with_status(approved_high, {"approvals": [
		approval("alice", "risk-officer", "approved", valid_until, [vllm_pinned]),
		approval("bob", "ml-lead", "approved", valid_until, [vllm_pinned, other]),
	]})
	decide_create(chat_pinned, split_approvals).allowed
	only(decide_create(deployment(governed, [container(other)]), split_approvals), "AIGOV_IMAGE_NOT_APPROVED")
}

test_every_container_image_checked if {
	d := decide_create(deployment(governed, [container(vllm), container("redis:7")]), approved)
	only(d, "AIGOV_IMAGE_NOT_APPROVED")
	count(d.violations) == 1
	contains(d.violations[0].message, "Image redis:7 ")
}

test_image_not_pinned if {
	d := decide_create(chat, object.union(approved_high, {"spec": {"images": [vllm]}}))
	"AIGOV_IMAGE_NOT_PINNED" in codes(d)
	contains(message(d, "AIGOV_IMAGE_NOT_PINNED"), "crane digest vllm/vllm-openai:v0.6.0")
}

test_pinning_not_required_below_high if {
	not "AIGOV_IMAGE_NOT_PINNED" in codes(decide_create(chat, approved))
}

test_several_violations_reported_together if {
	system := aisystem({"riskTier": "high", "lifecycle": {"stage": "retired"}}, {"suspension": {"active": true}})
	codes(decide_create(chat, system)) == {
		"AIGOV_RETIRED", "AIGOV_SUSPENDED", "AIGOV_ASSESSMENT_MISSING", "AIGOV_APPROVAL_MISSING",
		"AIGOV_IMAGE_NOT_APPROVED", "AIGOV_IMAGE_NOT_PINNED",
	}
}

test_every_code_has_a_control_and_a_fix if {
	system := aisystem({"riskTier": "high", "lifecycle": {"stage": "retired"}}, {"suspension": {"active": true}})
	every v in decide_create(chat, system).violations {
		startswith(v.control, "A.")
		contains(v.message, "AISystem \"chat\"")
	}
}

# --- append-only assessments: each assessor's last entry counts ----------------------------------

by(assessor, record) := object.union(record, {"assessor": assessor})

with_assessments(entries) := object.union(json.remove(approved, ["status/impactAssessment"]), {"status": {"assessments": entries}})

test_assessments_list_assesses if {
	decide_create(chat, with_assessments([by("carol", assessed_for("minimal", valid_until))])).allowed
}

test_rejection_stands_against_another_assessors_completion if {
	rejected := by("carol", assessment("rejected", valid_until))
	later := by("dave", assessed_for("minimal", valid_until))
	d := decide_create(chat, with_assessments([rejected, later]))
	only(d, "AIGOV_ASSESSMENT_MISSING")
	contains(message(d, "AIGOV_ASSESSMENT_MISSING"), "(the last one was rejected)")
}

test_rejection_withdrawn_by_same_assessor if {
	rejected := by("carol", assessment("rejected", valid_until))
	later := by("carol", assessed_for("minimal", valid_until))
	decide_create(chat, with_assessments([rejected, later])).allowed
}

test_legacy_rejection_stands_against_listed_completion if {
	system := object.union(approved, {"status": {
		"impactAssessment": assessment("rejected", valid_until),
		"assessments": [by("dave", assessed_for("minimal", valid_until))],
	}})
	only(decide_create(chat, system), "AIGOV_ASSESSMENT_MISSING")
}

test_latest_entry_decides_staleness if {
	old := by("carol", assessed_for("minimal", valid_until))
	later := by("dave", assessed_for("high", valid_until))
	only(decide_create(chat, with_assessments([old, later])), "AIGOV_ASSESSMENT_STALE")
}

test_assessment_beyond_max_term_counts_as_expired if {
	only(decide_create(chat, with_assessments([by("carol", assessed_for("minimal", "2300-01-01T00:00:00Z"))])), "AIGOV_ASSESSMENT_EXPIRED")
}

test_any_listed_assessor_may_not_approve if {
	system := with_assessments([by("alice", assessed_for("minimal", valid_until)), by("carol", assessed_for("minimal", valid_until))])
	codes(decide_create(chat, system)) == {"AIGOV_APPROVAL_MISSING", "AIGOV_IMAGE_NOT_APPROVED"}
	decide_create(chat, with_assessments([by("carol", assessed_for("minimal", valid_until))])).allowed
}

test_retired_by_an_approver if {
	retirement := {"retiredBy": "bob", "retiredAt": "2025-12-01T00:00:00Z", "justification": "replaced"}
	d := decide_create(chat, object.union(approved, {"status": {"retirement": retirement}}))
	only(d, "AIGOV_RETIRED")
	contains(message(d, "AIGOV_RETIRED"), "retired by bob at 2025-12-01T00:00:00Z")
	not contains(message(d, "AIGOV_RETIRED"), "return the system to service")
}

unclassified(system) := json.remove(system, ["spec/classification"])

test_high_tier_requires_the_classification if {
	d := decide_create(deployment(governed, [container(vllm_pinned)]), unclassified(approved_high))
	codes(d) == {"AIGOV_CLASSIFICATION_MISSING"}
	contains(d.violations[0].message, "missing: spec.classification.")
	d.violations[0].control == "A.5.2"
}

test_a_provider_needs_the_eu_database_id if {
	provider := json.patch(approved_high, [{"op": "replace", "path": "/spec/classification/roles", "value": ["provider"]}])
	codes(decide_create(deployment(governed, [container(vllm_pinned)]), provider)) == {"AIGOV_CLASSIFICATION_MISSING"}
	registered := json.patch(provider, [{"op": "add", "path": "/spec/classification/euDatabaseId", "value": "EU-1"}])
	codes(decide_create(deployment(governed, [container(vllm_pinned)]), registered)) == set()
}

test_lower_tiers_need_no_classification if {
	codes(decide_create(deployment(governed, [container(vllm)]), unclassified(approved))) == set()
}

# The approvals of `system` as recorded for the spec hash `hash`.
approved_for(system, hash) := object.union(system, {"status": {"approvals": [object.union(entry, {"specHash": hash}) |
	some entry in system.status.approvals
]}})

spec_a := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"

spec_b := "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbc"

with_spec_hash(input_document, hash) := object.union(input_document, {"specHash": hash})

test_an_approval_counts_for_the_spec_it_approved if {
	system := approved_for(approved, spec_a)
	codes(decide(with_spec_hash(review(create(deployment(governed, [container(vllm)])), system), spec_a))) == set()
}

test_an_approval_of_an_earlier_spec_no_longer_counts if {
	system := approved_for(approved, spec_a)
	d := decide(with_spec_hash(review(create(deployment(governed, [container(vllm)])), system), spec_b))
	codes(d) == {"AIGOV_APPROVAL_MISSING", "AIGOV_IMAGE_NOT_APPROVED"}
	some v in d.violations
	v.code == "AIGOV_APPROVAL_MISSING"
	contains(v.message, "(the approvals by alice were for an earlier spec")
}

test_an_approval_without_a_spec_hash_covers_images_as_before if {
	codes(decide(with_spec_hash(review(create(deployment(governed, [container(vllm)])), approved), spec_b))) == set()
}

test_no_spec_hash_in_the_input_counts_no_hashed_approval if {
	system := approved_for(approved, spec_a)
	"AIGOV_APPROVAL_MISSING" in codes(decide(review(create(deployment(governed, [container(vllm)])), system)))
}

test_high_tier_models_need_a_digest if {
	models := [{"name": "gbm", "digest": "sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d"}, {"name": "explainer"}]
	system := json.patch(approved_high, [{"op": "add", "path": "/spec/models", "value": models}])
	d := decide_create(deployment(governed, [container(vllm_pinned)]), system)
	codes(d) == {"AIGOV_MODEL_NOT_PINNED"}
	startswith(d.violations[0].message, "Model explainer of AISystem \"chat\"")
	codes(decide_create(deployment(governed, [container(vllm)]), json.patch(approved, [{"op": "add", "path": "/spec/models", "value": models}]))) == set()
}
