# The decision contract: shape, enforcement modes, which requests are judged.
package aigov.admission_test

ungoverned_vllm := deployment({}, [container(vllm)])

enforcement(mode) := {"aigov.io/enforcement": mode}

test_allowed_decision_shape if {
	decide_create(deployment(governed, [container(vllm)]), approved) == {
		"allowed": true,
		"mode": "enforce",
		"violations": [],
		"waived": [],
		"warnings": [],
	}
}

test_violation_shape if {
	d := decide_create(ungoverned_vllm, null)
	count(d.violations) == 1
	some v in d.violations
	object.keys(v) == {"code", "message", "control"}
	v.control == "A.4.2"
}

test_enforce_denies if {
	d := decide(review_in(create(ungoverned_vllm), null, enforcement("enforce")))
	d.mode == "enforce"
	not d.allowed
	codes(d) == {"AIGOV_UNGOVERNED"}
	d.warnings == []
}

test_default_mode_from_config if {
	d := decide(review_in(create(ungoverned_vllm), null, {"team": "ml"}))
	d.mode == "enforce"
	not d.allowed
}

test_default_mode_is_configurable if {
	cfg := object.union(data.testdata.config, {"defaultEnforcement": "audit"})
	d := decide_config(review(create(ungoverned_vllm), null), cfg)
	d.mode == "audit"
	d.allowed
}

test_namespace_without_labels if {
	d := decide(object.union(review(create(ungoverned_vllm), null), {"namespace": {"name": "ml"}}))
	d.mode == "enforce"
	not d.allowed
}

test_warn_allows_and_warns_each_violation if {
	d := decide(review_in(create(deployment({}, [container(vllm), container("ollama/ollama:0.3")])), null, enforcement("warn")))
	d.mode == "warn"
	d.allowed
	codes(d) == {"AIGOV_UNGOVERNED"}
	count(d.warnings) == 1
	startswith(d.warnings[0], "AIGOV_UNGOVERNED: deployments/llm is an AI workload")
}

test_warn_lists_every_violation if {
	system := aisystem({"riskTier": "high"}, {})
	d := decide(review_in(create(deployment(governed, [container(vllm)])), system, enforcement("warn")))
	d.allowed
	count(d.warnings) == count(d.violations)
	every w in d.warnings {
		count(w) <= 120
	}
}

test_audit_allows_and_reports_without_warnings if {
	d := decide(review_in(create(ungoverned_vllm), null, enforcement("audit")))
	d.mode == "audit"
	d.allowed
	codes(d) == {"AIGOV_UNGOVERNED"}
	d.warnings == []
}

test_off_allows_without_evaluating if {
	d := decide(review_in(create(ungoverned_vllm), null, enforcement("off")))
	d == {"allowed": true, "mode": "off", "violations": [], "waived": [], "warnings": []}
}

test_unknown_mode_label_falls_back_to_default_with_a_warning if {
	d := decide(review_in(create(ungoverned_vllm), null, enforcement("Warn")))
	d.mode == "enforce"
	not d.allowed
	d.warnings == ["namespace label aigov.io/enforcement=Warn is not one of enforce, warn, audit, off; using enforce"]
}

test_delete_always_allowed if {
	req := object.union(request("DELETE", ungoverned_vllm), {"object": null, "oldObject": ungoverned_vllm})
	d := decide(review(req, null))
	d.allowed
	d.violations == []
}

test_delete_of_suspended_system_workload_allowed if {
	suspended := with_status(approved, {"suspension": {"active": true}})
	d := decide(review(request("DELETE", deployment(governed, [container(vllm)])), suspended))
	d.allowed
}

test_connect_not_judged if {
	d := decide(review(request("CONNECT", pod({}, [container(vllm)])), null))
	d.allowed
}

test_status_subresource_not_judged if {
	req := object.union(update(ungoverned_vllm), {"subResource": "status"})
	decide(review(req, null)).allowed
}

test_ephemeral_containers_subresource_judged if {
	target := object.union(pod({}, [container("busybox")]), {"spec": {"ephemeralContainers": [container(vllm)]}})
	req := object.union(update(target), {"subResource": "ephemeralcontainers"})
	codes(decide(review(req, null))) == {"AIGOV_UNGOVERNED"}
}

test_update_of_object_being_deleted_allowed if {
	deleting := object.union(ungoverned_vllm, {"metadata": {"deletionTimestamp": now, "finalizers": []}})
	decide(review(update(deleting), null)).allowed
}

test_update_judged_like_create if {
	codes(decide(review(update(ungoverned_vllm), null))) == {"AIGOV_UNGOVERNED"}
}

test_non_ai_workload_allowed if {
	d := decide_create(deployment({}, [container("nginx:1.27")]), null)
	d.allowed
	d.violations == []
}

test_non_workload_kind_not_judged if {
	config_map := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "llm", "labels": governed}, "data": {}}
	d := decide_create(config_map, null)
	d.allowed
	d.violations == []
}

# An OPA without the configuration data (a bundle not written by aigov.policy.bundle) decides nothing.
test_no_configuration_no_decision if {
	not data.aigov.admission.decision with input as review(create(ungoverned_vllm), null)
	not decide_config(review(create(ungoverned_vllm), null), "enforce")
}

test_malformed_input_has_no_decision if {
	not decide({"request": {}, "now": now})
	not decide(object.union(review(create(ungoverned_vllm), null), {"now": "yesterday"}))
}

test_warnings_truncated_to_120_characters if {
	long_name := concat("", ["x" | some _ in numbers.range(1, 150)])
	workload := object.union(ungoverned_vllm, {"metadata": {"name": long_name}})
	d := decide(review_in(create(workload), null, enforcement("warn")))
	count(d.warnings[0]) == 120
	endswith(d.warnings[0], "...")
}

test_expiry_warnings if {
	system := aisystem({}, {
		"impactAssessment": assessment("completed", expiring),
		"approvals": [approval("alice", "ml-lead", "approved", expiring, [vllm])],
	})
	d := decide_create(deployment(governed, [container(vllm)]), system)
	d.allowed
	d.warnings == [
		"AISystem \"chat\": approval by alice expires 2026-01-05; renew: kubectl aigov approve chat -n ml",
		"AISystem \"chat\": impact assessment expires 2026-01-05; renew: kubectl aigov assess chat -n ml",
	]
}

test_no_expiry_warnings_outside_the_window if {
	decide_create(deployment(governed, [container(vllm)]), approved).warnings == []
}

test_no_expiry_warnings_with_a_zero_window if {
	system := aisystem({}, {
		"impactAssessment": assessment("completed", expiring),
		"approvals": [approval("alice", "ml-lead", "approved", expiring, [vllm])],
	})
	cfg := object.union(data.testdata.config, {"warningWindowDays": 0})
	d := decide_config(review(create(deployment(governed, [container(vllm)])), system), cfg)
	d.warnings == []
}

test_generated_name_in_messages if {
	generated := json.remove(object.union(ungoverned_vllm, {"metadata": {"generateName": "llm-"}}), ["metadata/name"])
	req := object.union(create(ungoverned_vllm), {"name": "", "object": generated})
	startswith(decide(review(req, null)).violations[0].message, "deployments/llm-* in namespace ml")
}
