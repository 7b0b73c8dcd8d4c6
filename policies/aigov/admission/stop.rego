# Stopping always works. An UPDATE (of the object or of its `scale`
# subresource) that lowers replicas, suspends a (Cron)Job, stops an
# InferenceService or parks a DaemonSet on the stop node selector, and changes
# nothing else that runs, is admitted whatever the system's state: the
# Deployment controller's scale-downs of ReplicaSets (replicas plus its
# `deployment.kubernetes.io/*` annotations) and `kubectl scale --replicas=0`
# after a revoke included. The stop fields come from the kinds table
# (aigov.core.workloads, bundle data data.aigov.config.kinds).
# Self-contained (reads only the input and config.rego): workload.rego uses `_stop_update`, and
# the webhook loads modules one by one, so the two must not refer to each other.
package aigov.admission

_new := input.request.object

_old := input.request.oldObject

_stop_info := _kind_entry(input.request.kind.group, input.request.kind.kind)

_stop_update if {
	input.request.operation == "UPDATE"
	is_object(_old)
	_stop_change
	_stop_view(_new) == _stop_view(_old)
}

_stop_change if _new.spec.replicas < _old.spec.replicas

_stop_change if {
	path := _stop_info.stop.path
	count(path) > 0
	object.get(_new, path, null) == _stop_info.stop.value
	object.get(_old, path, null) != _stop_info.stop.value
}

# What runs: the spec without replicas and the stop field, the labels, and the
# annotations except the ones that only record (the Deployment controller's,
# the DaemonSet template generation the API server bumps, kubectl's
# last-applied copy). A map the stop field leaves empty (the node
# selector) counts as absent.
_stop_view(obj) := _without_empty_parent(_stop_fields_removed(obj))

_stop_fields_removed(obj) := json.remove(
	{
		"spec": object.get(obj, "spec", {}),
		"metadata": {
			"labels": object.get(obj, ["metadata", "labels"], {}),
			"annotations": {k: v |
				some k, v in object.get(obj, ["metadata", "annotations"], {})
				not _recording_annotation(k)
			},
		},
	},
	_stop_paths,
)

_stop_paths := [["spec", "replicas"], _stop_info.stop.path] if count(_stop_info.stop.path) > 0

else := [["spec", "replicas"]]

_recording_annotation(key) if startswith(key, "deployment.kubernetes.io/")

_recording_annotation("kubectl.kubernetes.io/last-applied-configuration")

_recording_annotation("deprecated.daemonset.template.generation")

_stop_parent := array.slice(_stop_info.stop.path, 0, count(_stop_info.stop.path) - 1)

_without_empty_parent(view) := json.remove(view, [_stop_parent]) if {
	count(_stop_parent) > 0
	object.get(view, _stop_parent, null) == {}
} else := view
