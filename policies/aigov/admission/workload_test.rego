# AI-workload detection and the system label, for every workload kind.
package aigov.admission_test

import data.aigov.admission

ungoverned_codes(kind, containers) := codes(decide_create(workloads({}, containers)[kind], null))

governed_decision(kind) := decide_create(workloads(governed, [container(vllm)])[kind], approved)

test_pod if {
	ungoverned_codes("Pod", [container(vllm)]) == {"AIGOV_UNGOVERNED"}
	governed_decision("Pod").allowed
}

test_deployment if {
	ungoverned_codes("Deployment", [container(vllm)]) == {"AIGOV_UNGOVERNED"}
	governed_decision("Deployment").allowed
}

test_replicaset if {
	ungoverned_codes("ReplicaSet", [container(vllm)]) == {"AIGOV_UNGOVERNED"}
	governed_decision("ReplicaSet").allowed
}

test_statefulset if {
	ungoverned_codes("StatefulSet", [container(vllm)]) == {"AIGOV_UNGOVERNED"}
	governed_decision("StatefulSet").allowed
}

test_daemonset if {
	ungoverned_codes("DaemonSet", [container(vllm)]) == {"AIGOV_UNGOVERNED"}
	governed_decision("DaemonSet").allowed
}

test_job if {
	ungoverned_codes("Job", [container(vllm)]) == {"AIGOV_UNGOVERNED"}
	governed_decision("Job").allowed
}

test_cronjob if {
	ungoverned_codes("CronJob", [container(vllm)]) == {"AIGOV_UNGOVERNED"}
	governed_decision("CronJob").allowed
}

test_inference_service if {
	# AI by kind even without a recognised image.
	ungoverned_codes("InferenceService", [container("example.com/custom:1")]) == {"AIGOV_UNGOVERNED"}
	governed_decision("InferenceService").allowed
}

test_every_kind_non_ai_allowed if {
	every workload in object.remove(workloads({}, [container("nginx:1.27")]), ["InferenceService"]) {
		decide_create(workload, null).allowed
	}
}

test_inference_service_framework_images_checked if {
	isvc := object.union(inference_service(governed, []), {"spec": {"predictor": {
		"model": {"modelFormat": {"name": "huggingface"}, "image": "example.com/unapproved:1"},
		"containers": [],
	}}})
	d := decide_create(isvc, approved)
	codes(d) == {"AIGOV_IMAGE_NOT_APPROVED"}
}

test_inference_service_label_on_predictor if {
	isvc := object.union(inference_service({}, [container(vllm)]), {"spec": {"predictor": {"labels": governed}}})
	decide_create(isvc, approved).allowed
}

test_inference_service_model_resources_count_as_accelerators if {
	isvc := object.union(inference_service({}, []), {"spec": {"predictor": {
		"model": {"modelFormat": {"name": "sklearn"}, "resources": {"limits": {"nvidia.com/gpu": 1}}},
		"transformer": {"resources": {"requests": {"amd.com/gpu": 1}}},
	}}})
	admission._accelerators == {"nvidia.com/gpu", "amd.com/gpu"} with input as review(create(isvc), null) with data.aigov.config as data.testdata.config
}

seldon(labels) := {
	"apiVersion": "machinelearning.seldon.io/v1",
	"kind": "SeldonDeployment",
	"metadata": {"name": "llm", "labels": labels},
	"spec": {"predictors": [{"componentSpecs": [{"spec": {"containers": [container("example.com/other:1")]}}]}]},
}

test_other_serving_kind_by_configuration if {
	codes(decide_create(seldon({}), null)) == {"AIGOV_UNGOVERNED"}
	codes(decide_create(seldon(governed), approved)) == {"AIGOV_IMAGE_NOT_APPROVED"}
}

test_label_on_pod_template_only if {
	d := deployment({}, [container(vllm)])
	labelled := object.union(d, {"spec": {"template": {"metadata": {"labels": governed}}}})
	decide_create(labelled, approved).allowed
}

test_label_on_cronjob_job_template if {
	cj := object.union(cronjob({}, [container(vllm)]), {"spec": {"jobTemplate": {"metadata": {"labels": governed}}}})
	decide_create(cj, approved).allowed
}

test_object_label_wins_over_template_label if {
	d := object.union(deployment({system_label: "other"}, [container(vllm)]), {"spec": {"template": {"metadata": {"labels": governed}}}})
	admission._system_name == "other" with input as review(create(d), null) with data.aigov.config as data.testdata.config
}

test_empty_label_is_no_label if {
	codes(decide_create(deployment({system_label: ""}, [container(vllm)]), null)) == {"AIGOV_UNGOVERNED"}
}

test_labelled_workload_is_governed_even_without_ai_signals if {
	codes(decide_create(deployment(governed, [container("nginx:1.27")]), null)) == {"AIGOV_SYSTEM_NOT_FOUND"}
}

test_detect_init_container_image if {
	p := object.union(pod({}, [container("busybox")]), {"spec": {"initContainers": [container("ollama/ollama:0.3.12")]}})
	codes(decide_create(p, null)) == {"AIGOV_UNGOVERNED"}
}

test_detect_ephemeral_container_image if {
	p := object.union(pod({}, [container("busybox")]), {"spec": {"ephemeralContainers": [container("lmsysorg/sglang:latest")]}})
	codes(decide_create(p, null)) == {"AIGOV_UNGOVERNED"}
}

test_detect_accelerator_limits if {
	codes(decide_create(deployment({}, [gpu_container("python:3.12", "limits")]), null)) == {"AIGOV_UNGOVERNED"}
}

test_detect_accelerator_requests if {
	codes(decide_create(deployment({}, [gpu_container("python:3.12", "requests")]), null)) == {"AIGOV_UNGOVERNED"}
}

test_detect_accelerator_globs if {
	mig := {"name": "m", "image": "python:3.12", "resources": {"limits": {"nvidia.com/mig-1g.5gb": 1}}}
	codes(decide_create(pod({}, [mig]), null)) == {"AIGOV_UNGOVERNED"}
	neuron := {"name": "n", "image": "python:3.12", "resources": {"limits": {"aws.amazon.com/neuroncore": 2}}}
	codes(decide_create(pod({}, [neuron]), null)) == {"AIGOV_UNGOVERNED"}
	cpu := {"name": "c", "image": "python:3.12", "resources": {"limits": {"cpu": "2", "memory": "1Gi"}}}
	decide_create(pod({}, [cpu]), null).allowed
}

test_evidence_in_message if {
	d := decide_create(deployment({}, [gpu_container(vllm, "limits")]), null)
	contains(d.violations[0].message, "(accelerator nvidia.com/gpu, image vllm/vllm-openai:v0.6.0)")
}

test_ignored_sidecar_not_detected_nor_checked if {
	proxy := container("docker.io/istio/proxyv2:1.23.0")
	decide_create(deployment({}, [container("nginx:1.27"), proxy]), null).allowed
	decide_create(deployment(governed, [container(vllm), proxy]), approved).allowed
}

test_ignored_sidecar_matching_a_serving_pattern_is_ignored if {
	cfg := object.union(data.testdata.config, {"detection": {
		"ignoredImagePatterns": ["vllm/**"],
		"globRegex": {"ignoredImagePatterns": `(?s)^(?:.*/)?(?:vllm/.*)(?::[\w][\w.-]*)?$`},
	}})
	decide_config(review(create(deployment({}, [container(vllm)])), null), cfg).allowed
}

test_image_patterns_are_configuration if {
	cfg := object.union(data.testdata.config, {"detection": {
		"imagePatterns": ["example.com/models/*"],
		"globRegex": {"imagePatterns": `(?s)^(?:.*/)?(?:example\.com/models/[^/]*)(?::[\w][\w.-]*)?$`},
	}})
	codes(decide_config(review(create(deployment({}, [container("example.com/models/m:1")])), null), cfg)) == {"AIGOV_UNGOVERNED"}
}

# The audit judges a kind beyond the table (an unreviewed CRD) by sending it as input.extraKinds.
test_extra_kinds_from_the_input_are_judged if {
	deployment_kind := [k | some k in data.testdata.config.kinds; k.kind == "Deployment"][0]
	pool_kind := object.union(deployment_kind, {"group": "example.com", "kind": "ModelPool"})
	pool := object.union(deployment({}, [container(vllm)]), {"apiVersion": "example.com/v1", "kind": "ModelPool"})
	request := object.union(create(pool), {"kind": {"group": "example.com", "version": "v1", "kind": "ModelPool"}})
	decide(review(request, null)).allowed
	codes(decide(object.union(review(request, null), {"extraKinds": [pool_kind]}))) == {"AIGOV_UNGOVERNED"}
	decide(object.union(review(request, null), {"extraKinds": "not a list"})).allowed
}

# --- kinds from the table (data.aigov.config.kinds): wrappers judged by the pod specs they embed ---------

leader_worker_set(labels, containers) := {
	"apiVersion": "leaderworkerset.x-k8s.io/v1",
	"kind": "LeaderWorkerSet",
	"metadata": {"name": "lws"},
	"spec": {"replicas": 2, "leaderWorkerTemplate": {
		"leaderTemplate": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
		"workerTemplate": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
	}},
}

job_set(labels, containers) := {
	"apiVersion": "jobset.x-k8s.io/v1alpha2",
	"kind": "JobSet",
	"metadata": {"name": "js"},
	"spec": {"replicatedJobs": [
		{"name": "driver", "template": {"spec": {"template": {"spec": {"containers": containers}}}}},
		{"name": "workers", "template": {"spec": {"template": {
			"metadata": {"labels": labels},
			"spec": {"containers": containers},
		}}}},
	]},
}

seldon_deployment(containers) := {
	"apiVersion": "machinelearning.seldon.io/v1",
	"kind": "SeldonDeployment",
	"metadata": {"name": "sd"},
	"spec": {"predictors": [{"componentSpecs": [{"spec": {"containers": containers}}]}]},
}

test_wrapper_judged_by_its_worker_template if {
	codes(decide_create(leader_worker_set({}, [container(vllm)]), null)) == {"AIGOV_UNGOVERNED"}
	decide_create(leader_worker_set({}, [container("nginx:1.27")]), null).allowed
	decide_create(leader_worker_set(governed, [container(vllm)]), approved).allowed
}

test_wrapper_with_lists_of_templates if {
	codes(decide_create(job_set({}, [gpu_container("example.com/train:1", "limits")]), null)) == {"AIGOV_UNGOVERNED"}
	decide_create(job_set({}, [container("nginx:1.27")]), null).allowed

	# The system label on the embedded template binds it.
	decide_create(job_set(governed, [container(vllm)]), approved).allowed
}

test_serving_kind_with_two_wildcards_checks_its_images if {
	codes(decide_create(seldon_deployment([container("example.com/model:1")]), null)) == {"AIGOV_UNGOVERNED"}
}

test_training_kind_is_ai_by_kind if {
	pytorch_job := {
		"apiVersion": "kubeflow.org/v1",
		"kind": "PyTorchJob",
		"metadata": {"name": "train"},
		"spec": {"pytorchReplicaSpecs": {"Master": {"template": {"spec": {"containers": [container("example.com/t:1")]}}}}},
	}
	codes(decide_create(pytorch_job, null)) == {"AIGOV_UNGOVERNED"}
}

test_unknown_kind_is_not_reviewed if {
	widget := {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"template": {
		"spec": {"containers": [container(vllm)]},
	}}}
	decide_create(widget, null).allowed
}
