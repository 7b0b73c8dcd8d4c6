# Builders shared by the tests: workloads of every kind, AISystems in every
# state, and the review input around them. `decide` sets the bundle data data.aigov.config to
# policies/testdata/config.json (a Python test keeps it equal to aigov.config); `decide_config` to another.
package aigov.admission_test

import data.aigov.admission

now := "2026-01-01T00:00:00Z"

# Valid well beyond the warning window; expiring inside it; already expired.
valid_until := "2026-06-01T00:00:00Z"

expiring := "2026-01-05T00:00:00Z"

expired := "2025-12-01T00:00:00Z"

vllm := "vllm/vllm-openai:v0.6.0"

vllm_pinned := "vllm/vllm-openai@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

system_label := "aigov.io/system"

governed := {system_label: "chat"}

container(image) := {"name": "main", "image": image}

gpu_container(image, section) := {"name": "main", "image": image, "resources": {section: {"nvidia.com/gpu": 1}}}

# --- workloads of every kind, labelled (on the object) and with the given containers ----------

pod(labels, containers) := {
	"apiVersion": "v1",
	"kind": "Pod",
	"metadata": {"name": "llm", "labels": labels},
	"spec": {"containers": containers},
}

templated(api_version, kind, labels, containers) := {
	"apiVersion": api_version,
	"kind": kind,
	"metadata": {"name": "llm", "labels": labels},
	"spec": {"replicas": 1, "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}},
}

deployment(labels, containers) := templated("apps/v1", "Deployment", labels, containers)

job(labels, containers) := {
	"apiVersion": "batch/v1",
	"kind": "Job",
	"metadata": {"name": "llm", "labels": labels},
	"spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}},
}

cronjob(labels, containers) := {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": {"name": "llm", "labels": labels},
	"spec": {
		"schedule": "0 * * * *",
		"jobTemplate": {"spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": containers}}}},
	},
}

inference_service(labels, containers) := {
	"apiVersion": "serving.kserve.io/v1beta1",
	"kind": "InferenceService",
	"metadata": {"name": "llm", "labels": labels},
	"spec": {"predictor": {"containers": containers}},
}

workloads(labels, containers) := {
	"Pod": pod(labels, containers),
	"Deployment": deployment(labels, containers),
	"ReplicaSet": templated("apps/v1", "ReplicaSet", labels, containers),
	"StatefulSet": templated("apps/v1", "StatefulSet", labels, containers),
	"DaemonSet": templated("apps/v1", "DaemonSet", labels, containers),
	"Job": job(labels, containers),
	"CronJob": cronjob(labels, containers),
	"InferenceService": inference_service(labels, containers),
}

resources := {
	"Pod": "pods", "Deployment": "deployments", "ReplicaSet": "replicasets", "StatefulSet": "statefulsets",
	"DaemonSet": "daemonsets", "Job": "jobs", "CronJob": "cronjobs", "InferenceService": "inferenceservices",
	"SeldonDeployment": "seldondeployments", "ConfigMap": "configmaps", "AISystem": "aisystems",
}

# --- requests ---------------------------------------------------------------------------------

request(operation, object) := {
	"uid": "0c6b1f0e-0000-4000-8000-000000000000",
	"kind": {"group": _group(object.apiVersion), "version": _version(object.apiVersion), "kind": object.kind},
	"resource": {
		"group": _group(object.apiVersion), "version": _version(object.apiVersion),
		"resource": _resource(object.kind),
	},
	"namespace": "ml",
	"name": object.metadata.name,
	"operation": operation,
	"userInfo": {"username": "dev"},
	"object": object,
}

_resource(kind) := resource if resource := resources[kind]

else := concat("", [lower(kind), "s"])

create(object) := request("CREATE", object)

update(object) := request("UPDATE", object)

_group(api_version) := "" if not contains(api_version, "/")

else := split(api_version, "/")[0]

_version(api_version) := split(api_version, "/")[count(split(api_version, "/")) - 1]

# A `kubectl scale` request: autoscaling/v1 Scale on the deployments/scale subresource.
scale(replicas) := {
	"uid": "0c6b1f0e-0000-4000-8000-000000000001",
	"kind": {"group": "autoscaling", "version": "v1", "kind": "Scale"},
	"resource": {"group": "apps", "version": "v1", "resource": "deployments"},
	"subResource": "scale",
	"namespace": "ml",
	"name": "llm",
	"operation": "UPDATE",
	"userInfo": {"username": "dev"},
	"object": {
		"apiVersion": "autoscaling/v1", "kind": "Scale",
		"metadata": {"name": "llm", "namespace": "ml"}, "spec": {"replicas": replicas},
	},
}

# --- AISystems --------------------------------------------------------------------------------

assessment(status, expires_at) := {
	"status": status, "assessor": "carol",
	"completedAt": "2025-11-01T00:00:00Z", "expiresAt": expires_at,
}

approval(approver, role, decision, expires_at, images) := {
	"approver": approver, "role": role, "decision": decision,
	"decidedAt": "2025-11-02T00:00:00Z", "expiresAt": expires_at, "images": images,
}

# An AISystem named `chat` in namespace `ml` with the given spec and status.
# The EU AI Act classification record every fixture carries (the high tier requires it).
classified := {"roles": ["deployer"], "rationale": "Annex III(4)(a): used in recruitment"}

aisystem(spec, status) := {
	"apiVersion": "aigov.io/v1alpha1",
	"kind": "AISystem",
	"metadata": {"name": "chat", "namespace": "ml"},
	"spec": object.union({"purpose": "customer chat", "riskTier": "minimal", "images": [vllm], "classification": classified}, spec),
	"status": status,
}

# A minimal-risk system with a valid assessment and one valid approval of `vllm`.
approved := aisystem({}, {
	"impactAssessment": assessment("completed", valid_until),
	"approvals": [approval("alice", "ml-lead", "approved", valid_until, [vllm])],
})

# A high-risk system approved by a risk officer and a second approver, images pinned.
approved_high := aisystem({"riskTier": "high", "images": [vllm_pinned]}, {
	"impactAssessment": assessment("completed", valid_until),
	"approvals": [
		approval("alice", "risk-officer", "approved", valid_until, [vllm_pinned]),
		approval("bob", "ml-lead", "approved", valid_until, [vllm_pinned]),
	],
})

with_status(system, patch) := object.union(system, {"status": patch})

# --- the review ---------------------------------------------------------------------------------

review(req, system) := review_in(req, system, {})

review_in(req, system, namespace_labels) := {
	"request": req,
	"aisystem": system,
	"namespace": {"name": "ml", "labels": namespace_labels},
	"now": now,
}

decide(input_document) := decide_config(input_document, data.testdata.config)

# The decision for `input_document` with the configuration `cfg` as OPA's bundle data.
decide_config(input_document, cfg) := decision if {
	decision := admission.decision with input as input_document with data.aigov.config as cfg
}

codes(decision) := {v.code | some v in decision.violations}

# The decision for creating `object` judged against `system` in an enforcing namespace.
decide_create(object, system) := decide(review(create(object), system))
