# Workloads: which requests are judged, which objects are workloads, their
# containers, their system label, whether they are AI workloads and stopped.
package aigov.admission

# Which requests are judged. DELETE and CONNECT always pass; so do updates of
# objects already being deleted (finalizers must be removable) and subresources
# other than `scale` and `ephemeralcontainers` (status, binding...).
_workload_review if {
	input.request.operation in {"CREATE", "UPDATE"}
	object.get(input.request, "subResource", "") in {"", "ephemeralcontainers"}
	_workload_kind
	not _object.metadata.deletionTimestamp
}

# `kubectl scale` goes through the Scale subresource, which carries no labels:
# judged against the AISystem the caller resolved from the scaled workload.
# Scaling to zero is always allowed.
_scale_review if {
	input.request.operation == "UPDATE"
	input.request.subResource == "scale"
	is_object(input.aisystem)
	not _stopped
}

# An AISystem being created or updated: never denied, only warned about (aisystem.rego).
_aisystem_review if {
	input.request.operation in {"CREATE", "UPDATE"}
	object.get(input.request, "subResource", "") == ""
	input.request.kind.group == "aigov.io"
	input.request.kind.kind == "AISystem"
	not _object.metadata.deletionTimestamp
}

_object := input.request.object

_kind := input.request.kind.kind

_group := input.request.kind.group

_template_kinds := {
	"apps": {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"},
	"batch": {"Job"},
}

_pod_spec := _object.spec if {
	_group == ""
	_kind == "Pod"
}

_pod_spec := _object.spec.template.spec if _kind in _template_kinds[_group]

_pod_spec := _object.spec.jobTemplate.spec.template.spec if {
	_group == "batch"
	_kind == "CronJob"
}

_kserve_isvc if {
	_group == "serving.kserve.io"
	_kind == "InferenceService"
}

# A model-serving kind named in the configuration: AI by definition.
_serving_kind if {
	some serving in input.config.detection.servingKinds
	serving.group == _group
	serving.kind == _kind
}

# Custom resources whose containers sit in kind-specific places.
_custom_kind if _kserve_isvc

_custom_kind if _serving_kind

_workload_kind if _pod_spec

_workload_kind if _custom_kind

_pod_container_fields := ["initContainers", "containers", "ephemeralContainers"]

_all_containers contains container if {
	some field in _pod_container_fields
	some container in _pod_spec[field]
}

# In custom resources (InferenceService predictor/transformer/explainer, framework
# specs such as `spec.predictor.model`, embedded pod templates) anything shaped like
# a container counts.
_all_containers contains node if {
	_custom_kind
	walk(_object.spec, [_, node])
	_container_like(node)
}

_container_like(node) if is_string(node.image)

_container_like(node) if is_object(node.resources.limits)

_container_like(node) if is_object(node.resources.requests)

# Containers that matter: infrastructure sidecars (service-mesh proxies...) are ignored.
_containers contains container if {
	some container in _all_containers
	not _ignored(container)
}

_ignored(container) if _ignored_image(container.image)

_images contains container.image if {
	some container in _containers
	is_string(container.image)
	container.image != ""
}

_accelerators contains name if {
	some container in _containers
	some section in ["limits", "requests"]
	some name, _ in container.resources[section]
	_glob_any(input.config.detection.acceleratorResources, name)
}

# Why the workload counts as an AI workload.
_ai_evidence contains sprintf("image %s", [image]) if {
	some image in _images
	_serving_image(image)
}

_ai_evidence contains sprintf("accelerator %s", [name]) if some name in _accelerators

_ai_evidence contains sprintf("kind %s", [_kind]) if _serving_kind

_ai_workload if count(_ai_evidence) > 0

# The AISystem the workload names: the label on the object, else on its pod template.
_system_name := [name |
	some path in _label_paths
	name := _label_value(object.get(_object, path, {}))
][0]

_label_paths := [
	["metadata", "labels"],
	["spec", "template", "metadata", "labels"],
	["spec", "jobTemplate", "metadata", "labels"],
	["spec", "jobTemplate", "spec", "template", "metadata", "labels"],
	["spec", "predictor", "labels"],
]

_label_value(labels) := value if {
	value := labels[input.config.systemLabel]
	is_string(value)
	value != ""
}

# The workload runs nothing: scaled to zero, a suspended (Cron)Job, a stopped InferenceService.
_stopped if {
	input.request.subResource == "scale"
	object.get(_object, ["spec", "replicas"], 0) == 0
}

_stopped if _object.spec.replicas == 0

_stopped if {
	_group == "batch"
	_object.spec.suspend == true
}

_stopped if {
	_kserve_isvc
	_object.metadata.annotations["serving.kserve.io/stop"] == "true"
}
