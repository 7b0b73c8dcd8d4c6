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
	not _stop_update
}

# `kubectl scale` goes through the Scale subresource, which carries no labels:
# judged against the AISystem the caller resolved from the scaled workload.
# Scaling down is always allowed (stop.rego).
_scale_review if {
	input.request.operation == "UPDATE"
	input.request.subResource == "scale"
	is_object(input.aisystem)
	not _stopped
	not _stop_update
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

# The kinds-table entry of the object under review (aigov.core.workloads, bundle data data.aigov.config.kinds):
# where its pod specs and labels sit, how it stops, and whether the kind alone makes it AI.
_kind_info := _kind_entry(_group, _kind)

_workload_kind if _kind_info

# A model-serving or model-training kind: AI by definition.
_serving_kind if _kind_info.role in {"serving", "training"}

# The values at `segments` in `obj`: ground paths joined by `*` wildcards, each
# wildcard fanning out over a list's items or a map's values (at most two).
_at(obj, segments) := {v |
	v := object.get(obj, segments[0], null)
	v != null
} if count(segments) == 1

_at(obj, segments) := {v |
	some x in object.get(obj, segments[0], [])
	v := object.get(x, segments[1], null)
	v != null
} if count(segments) == 2

_at(obj, segments) := {v |
	some x in object.get(obj, segments[0], [])
	some y in object.get(x, segments[1], [])
	v := object.get(y, segments[2], null)
	v != null
} if count(segments) == 3

_pod_specs contains spec if {
	some path in _kind_info.podSpecs
	some spec in _at(_object, path)
	is_object(spec)
}

_pod_container_fields := ["initContainers", "containers", "ephemeralContainers"]

# The containers the kinds table yields: those of the pod specs, and single
# containers outside pod specs (KServe's `spec.predictor.model`).
_table_containers contains container if {
	some spec in _pod_specs
	some field in _pod_container_fields
	some container in spec[field]
}

_table_containers contains container if {
	some path in _kind_info.containers
	some container in _at(_object, path)
	is_object(container)
}

_all_containers contains container if some container in _table_containers

# In serving and training kinds (framework specs, embedded templates of any shape)
# anything shaped like a container counts.
_all_containers contains node if {
	_serving_kind
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

# The AISystem the workload names: the label on the object, else on its pod templates.
_system_name := [name |
	some path in _label_paths
	some labels in _at(_object, path)
	name := _label_value(labels)
][0]

_label_paths := _kind_info.labels if _kind_info

else := [[["metadata", "labels"]]]

_label_value(labels) := value if {
	value := labels[_config.systemLabel]
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
	_kind_info.stop.method == "suspend"
	object.get(_object, _kind_info.stop.path, false) == true
}

_stopped if {
	_kind_info.stop.method == "annotation"
	object.get(_object, _kind_info.stop.path, "") == "true"
}
