package aigovungoverned

# aigov's AIGOV_UNGOVERNED detection for Gatekeeper, ported rule by rule from
# policies/aigov/admission/detection.rego, images.rego and workload.rego: the
# kinds table; engine images by repository name whatever the registry and
# organisation (minus exclusions, mesh proxies skipped); command and model-reference
# patterns over command/args and env; accelerators in resources, DRA claims,
# runtime classes and visible-device env (probes excepted); serving/training
# kinds; the not-AI declaration; the system label. `config` is
# aigov.core.config.Config's policy data, placed by devkit.peers.gatekeeper_template.
# Not ported: strict namespaces (Gatekeeper's input has no namespace labels
# unless namespaces are synced into data.inventory).

config := __CONFIG__

_detection := config.detection

_object := input.review.object

_kind_info := info if {
	some info in config.kinds
	info.group == input.review.kind.group
	info.kind == input.review.kind.kind
}

_serving_kind if _kind_info.role in {"serving", "training"}

_at(o, segments) := {v |
	v := object.get(o, segments[0], null)
	v != null
} if count(segments) == 1

_at(o, segments) := {v |
	some x in object.get(o, segments[0], [])
	v := object.get(x, segments[1], null)
	v != null
} if count(segments) == 2

_at(o, segments) := {v |
	some x in object.get(o, segments[0], [])
	some y in object.get(x, segments[1], [])
	v := object.get(y, segments[2], null)
	v != null
} if count(segments) == 3

_pod_specs contains spec if {
	some path in _kind_info.podSpecs
	some spec in _at(_object, path)
	is_object(spec)
}

_table_containers contains container if {
	some spec in _pod_specs
	some field in ["initContainers", "containers", "ephemeralContainers"]
	some container in spec[field]
}

_table_containers contains container if {
	some path in _kind_info.containers
	some container in _at(_object, path)
	is_object(container)
}

_all_containers contains container if some container in _table_containers

_all_containers contains node if {
	_serving_kind
	walk(_object.spec, [_, node])
	_container_like(node)
}

_container_like(node) if is_string(node.image)

_container_like(node) if is_object(node.resources.limits)

_container_like(node) if is_object(node.resources.requests)

_ignored(container) if _image_matches(_detection.ignoredImagePatterns, container.image)

# Image references (images.rego).
_image_pattern := `^([^@]+?)(?::([\w][\w.-]*))?(?:@(.+))?$`

_image(ref) := {"repository": _short(match[1]), "tag": match[2]} if {
	match := regex.find_all_string_submatch_n(_image_pattern, ref, 1)[0]
}

_short(name) := trim_prefix(trim_prefix(trim_prefix(name, "index.docker.io/"), "docker.io/"), "library/")

_normalised(ref) := concat(":", [img.repository, img.tag]) if {
	img := _image(ref)
	img.tag != ""
} else := _image(ref).repository

_glob_any(patterns, value) if {
	some pattern in patterns
	glob.match(pattern, ["/"], value)
}

_image_matches(patterns, ref) if {
	some candidate in _image_candidates(ref)
	_glob_any(patterns, candidate)
}

_image_candidates(ref) := {lower(_normalised(ref))} | {candidate |
	img := _image(ref)
	parts := split(lower(_without_host(img.repository)), "/")
	some i in numbers.range(0, count(parts) - 1)
	tail := concat("/", array.slice(parts, i, count(parts)))
	some candidate in _with_tag(tail, lower(img.tag))
}

_with_tag(name, "") := {name}

_with_tag(name, tag) := {name, concat(":", [name, tag])} if tag != ""

_without_host(repository) := concat("/", array.slice(parts, 1, count(parts))) if {
	parts := split(repository, "/")
	count(parts) > 1
	_registry_host(parts[0])
} else := repository

_registry_host(part) if contains(part, ".")

_registry_host(part) if contains(part, ":")

_registry_host("localhost")

# Evidence (detection.rego).
_evidence contains sprintf("kind %s", [input.review.kind.kind]) if _serving_kind

_evidence contains signal if {
	not _declared_not_ai
	some signal in _signals
}

_declared_not_ai if {
	_object.metadata.labels[_detection.notAiLabel] == "true"
	trim_space(object.get(_object, ["metadata", "annotations", _detection.notAiReasonAnnotation], "")) != ""
}

_signals contains sprintf("image %s", [container.image]) if {
	some container in _table_containers
	not _ignored(container)
	is_string(container.image)
	_image_matches(_detection.imagePatterns, container.image)
	not _image_matches(_detection.excludedImagePatterns, container.image)
}

_signals contains sprintf("command %q", [_clip(match)]) if {
	some text in _command_texts
	some pattern in _detection.commandPatterns
	match := regex.find_n(pattern, text, 1)[0]
}

_signals contains sprintf("model reference %q", [_clip(match)]) if {
	some text in _model_texts
	some pattern in _detection.modelPatterns
	match := regex.find_n(pattern, text, 1)[0]
}

_signals contains sprintf("model reference env %s", [env.name]) if {
	some container in _table_containers
	some env in container.env
	_glob_any(_detection.modelEnv, env.name)
}

_signals contains sprintf("model reference storageUri %s", [_clip(container.storageUri)]) if {
	some container in _table_containers
	is_string(container.storageUri)
	container.storageUri != ""
}

_signals contains sprintf("accelerator %s", [name]) if {
	some container in _all_containers
	not _probe(container)
	some section in ["limits", "requests"]
	some name, _ in container.resources[section]
	_glob_any(_detection.acceleratorResources, name)
}

_signals contains sprintf("DRA resource claim %s", [name]) if {
	some spec in _working_pod_specs
	some claim in spec.resourceClaims
	name := _claim_name(claim)
	_glob_any(_detection.resourceClaimPatterns, name)
}

_signals contains sprintf("runtime class %s", [spec.runtimeClassName]) if {
	some spec in _working_pod_specs
	_glob_any(_detection.runtimeClasses, spec.runtimeClassName)
}

_signals contains sprintf("env %s", [env.name]) if {
	some container in _table_containers
	not _probe(container)
	some env in container.env
	env.name in _detection.acceleratorEnv
	not lower(object.get(env, "value", "")) in {"", "void", "none"}
}

_claim_name(claim) := claim.resourceClaimTemplateName if is_string(claim.resourceClaimTemplateName)

else := claim.resourceClaimName if is_string(claim.resourceClaimName)

else := claim.name

_working_pod_specs contains spec if {
	some spec in _pod_specs
	some container in spec.containers
	not _probe(container)
}

_probe(container) if _image_matches(_detection.acceleratorProbeImages, container.image)

_probe(container) if {
	some pattern in _detection.acceleratorProbeCommands
	regex.match(pattern, _command_line(container))
}

_command_texts contains text if {
	some container in _table_containers
	not _ignored(container)
	text := _command_line(container)
	text != ""
}

_command_texts contains text if {
	some path in _kind_info.commands
	some text in _at(_object, path)
	is_string(text)
}

_model_texts contains text if some text in _command_texts

_model_texts contains env.value if {
	some container in _table_containers
	some env in container.env
	is_string(env.value)
}

_command_line(container) := concat(" ", [sprintf("%v", [part]) |
	some field in ["command", "args"]
	some part in object.get(container, field, [])
])

_clip(text) := text if count(text) <= 60

else := concat("", [substring(text, 0, 57), "..."])

# The system label (workload.rego).
_system_name := [name |
	some path in _kind_info.labels
	some labels in _at(_object, path)
	name := labels[config.systemLabel]
	is_string(name)
	name != ""
][0]

violation contains {"msg": msg} if {
	input.review.operation in {"CREATE", "UPDATE"}
	_kind_info
	not _system_name
	count(_evidence) > 0
	msg := sprintf(
		"AIGOV_UNGOVERNED: %s/%s is an AI workload (%s) but has no %s label",
		[input.review.kind.kind, object.get(_object, ["metadata", "name"], "*"), concat(", ", sort(_evidence)), config.systemLabel],
	)
}
