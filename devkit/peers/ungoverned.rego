package aigovungoverned

# aigov's AIGOV_UNGOVERNED detection (policies/aigov/admission/workload.rego and
# images.rego) for Gatekeeper: the same kinds table, image globs, ignored
# sidecars and accelerator resources, from aigov.core.config.Config, placed in
# `config` by devkit.peers.gatekeeper_template.

config := __CONFIG__

obj := input.review.object

kind_info := info if {
	some info in config.kinds
	info.group == input.review.kind.group
	info.kind == input.review.kind.kind
}

serving_kind if kind_info.role in {"serving", "training"}

at(o, segments) := {v |
	v := object.get(o, segments[0], null)
	v != null
} if count(segments) == 1

at(o, segments) := {v |
	some x in object.get(o, segments[0], [])
	v := object.get(x, segments[1], null)
	v != null
} if count(segments) == 2

at(o, segments) := {v |
	some x in object.get(o, segments[0], [])
	some y in object.get(x, segments[1], [])
	v := object.get(y, segments[2], null)
	v != null
} if count(segments) == 3

pod_specs contains spec if {
	some path in kind_info.podSpecs
	some spec in at(obj, path)
	is_object(spec)
}

all_containers contains container if {
	some spec in pod_specs
	some field in ["initContainers", "containers", "ephemeralContainers"]
	some container in spec[field]
}

all_containers contains container if {
	some path in kind_info.containers
	some container in at(obj, path)
	is_object(container)
}

all_containers contains node if {
	serving_kind
	walk(obj.spec, [_, node])
	container_like(node)
}

container_like(node) if is_string(node.image)

container_like(node) if is_object(node.resources.limits)

container_like(node) if is_object(node.resources.requests)

containers contains container if {
	some container in all_containers
	not glob_any(config.detection.ignoredImagePatterns, normalised(container.image))
}

image_pattern := `^([^@]+?)(?::([\w][\w.-]*))?(?:@(.+))?$`

image(ref) := {"repository": short(match[1]), "tag": match[2]} if {
	match := regex.find_all_string_submatch_n(image_pattern, ref, 1)[0]
}

short(name) := trim_prefix(trim_prefix(trim_prefix(name, "index.docker.io/"), "docker.io/"), "library/")

normalised(ref) := concat(":", [img.repository, img.tag]) if {
	img := image(ref)
	img.tag != ""
} else := image(ref).repository

glob_any(patterns, value) if {
	some pattern in patterns
	glob.match(pattern, ["/"], value)
}

evidence contains sprintf("image %s", [container.image]) if {
	some container in containers
	is_string(container.image)
	glob_any(config.detection.imagePatterns, normalised(container.image))
}

evidence contains sprintf("accelerator %s", [name]) if {
	some container in containers
	some section in ["limits", "requests"]
	some name, _ in container.resources[section]
	glob_any(config.detection.acceleratorResources, name)
}

evidence contains sprintf("kind %s", [input.review.kind.kind]) if serving_kind

system_name := [name |
	some path in kind_info.labels
	some labels in at(obj, path)
	name := labels[config.systemLabel]
	is_string(name)
	name != ""
][0]

violation contains {"msg": msg} if {
	input.review.operation in {"CREATE", "UPDATE"}
	kind_info
	not system_name
	count(evidence) > 0
	msg := sprintf(
		"AIGOV_UNGOVERNED: %s/%s is an AI workload (%s) but has no %s label",
		[input.review.kind.kind, object.get(obj, ["metadata", "name"], "*"), concat(", ", sort(evidence)), config.systemLabel],
	)
}
