package aigov.admission_test

# Systems that must not run: approval revoked, retired, suspended with an expired assessment.
revoked := with_status(approved, {"approvals": [
	approval("alice", "ml-lead", "approved", valid_until, [vllm]),
	approval("alice", "ml-lead", "revoked", valid_until, [vllm]),
]})

retired := object.union(approved, {"spec": {"lifecycle": {"stage": "retired"}}})

must_not_run := [
	revoked,
	retired,
	with_status(approved, {"suspension": {"active": true}, "impactAssessment": assessment("completed", expired)}),
]

with_replicas(obj, n) := object.union(obj, {"spec": {"replicas": n}})

changed(old, new) := object.union(update(new), {"oldObject": old})

replica_set := templated("apps/v1", "ReplicaSet", governed, [container(vllm)])

# The Deployment controller's scale-down of an old ReplicaSet: replicas and its own annotations.
controller_scale_down(n) := changed(
	object.union(with_replicas(replica_set, 3), {"metadata": {"annotations": {"deployment.kubernetes.io/desired-replicas": "3"}}}),
	object.union(with_replicas(replica_set, n), {"metadata": {"annotations": {"deployment.kubernetes.io/desired-replicas": "1"}}}),
)

test_lowering_replicas_is_admitted_whatever_the_system if {
	some system in must_not_run
	not decide(review(changed(with_replicas(chat, 3), with_replicas(chat, 3)), system)).allowed
	decide(review(changed(with_replicas(chat, 3), with_replicas(chat, 0)), system)).allowed
	decide(review(controller_scale_down(1), system)).allowed
	decide(review(controller_scale_down(0), system)).allowed
}

test_scale_subresource_lowering_is_admitted if {
	some system in must_not_run
	decide(review(object.union(scale(1), {"oldObject": scale(3).object}), system)).allowed
	not decide(review(object.union(scale(3), {"oldObject": scale(1).object}), system)).allowed
}

test_scaling_up_or_changing_the_template_is_judged if {
	raised := decide(review(changed(with_replicas(chat, 1), with_replicas(chat, 2)), revoked))
	"AIGOV_APPROVAL_MISSING" in codes(raised)
	new_image := deployment(governed, [container("vllm/vllm-openai:v0.9.0")])
	swapped := decide(review(changed(with_replicas(chat, 3), with_replicas(new_image, 1)), approved))
	codes(swapped) == {"AIGOV_IMAGE_NOT_APPROVED"}
	relabelled := object.union(with_replicas(chat, 1), {"metadata": {"labels": {"team": "x"}}})
	not decide(review(changed(with_replicas(chat, 3), relabelled), revoked)).allowed
}

test_suspending_a_job_or_stopping_an_inference_service_is_admitted if {
	some system in must_not_run
	some running in [job(governed, [container(vllm)]), cronjob(governed, [container(vllm)])]
	decide(review(changed(running, object.union(running, {"spec": {"suspend": true}})), system)).allowed
	isvc := inference_service(governed, [container(vllm)])
	stopped := object.union(isvc, {"metadata": {"annotations": {"serving.kserve.io/stop": "true"}}})
	decide(review(changed(isvc, stopped), system)).allowed
	not decide(review(changed(stopped, isvc), system)).allowed
}

test_parking_a_daemonset_is_admitted if {
	some system in must_not_run
	ds := templated("apps/v1", "DaemonSet", governed, [container(vllm)])
	parked := object.union(ds, {
		"metadata": {"annotations": {"deprecated.daemonset.template.generation": "2"}},
		"spec": {"template": {"spec": {"nodeSelector": {"aigov.io/stopped": "true"}}}},
	})
	decide(review(changed(ds, parked), system)).allowed
	elsewhere := object.union(ds, {"spec": {"template": {"spec": {"nodeSelector": {"gpu": "a100"}}}}})
	not decide(review(changed(ds, elsewhere), system)).allowed
}

test_relabelling_away_from_a_suspended_system_is_denied if {
	other := object.union(chat, {"metadata": {"labels": {system_label: "other"}}, "spec": {"template": {"metadata": {"labels": {system_label: "other"}}}}})
	approved_other := object.union(approved, {"metadata": {"name": "other"}})
	suspended_chat := with_status(approved, {"suspension": {"active": true}})
	moved := object.union(review(changed(chat, other), approved_other), {"leftAISystem": suspended_chat})
	only_suspended := decide(moved)
	codes(only_suspended) == {"AIGOV_SUSPENDED"}
	not only_suspended.allowed
	decide(object.union(review(changed(chat, other), approved_other), {"leftAISystem": approved})).allowed
}

test_approvals_by_the_current_owner_or_assessor_do_not_count if {
	owned := object.union(approved, {"spec": {"owner": {"name": "Model Team", "email": "Alice@Example.com"}}})
	by_owner := with_status(owned, {"approvals": [approval("alice@example.com", "ml-lead", "approved", valid_until, [vllm])]})
	"AIGOV_APPROVAL_MISSING" in codes(decide_create(chat, by_owner))
	by_assessor := with_status(approved, {"approvals": [approval("carol", "ml-lead", "approved", valid_until, [vllm])]})
	"AIGOV_APPROVAL_MISSING" in codes(decide_create(chat, by_assessor))
}

test_an_approved_image_outside_spec_images_is_not_approved if {
	other := "vllm/vllm-openai:v0.9.0"
	listed := with_status(approved, {"approvals": [approval("alice", "ml-lead", "approved", valid_until, [vllm, other])]})
	codes(decide_create(deployment(governed, [container(other)]), listed)) == {"AIGOV_IMAGE_NOT_APPROVED"}
}
