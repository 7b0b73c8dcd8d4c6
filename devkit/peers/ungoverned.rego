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
# unless namespaces are synced into data.inventory). The same algorithm as aigov's:
# kinds by index, each image parsed and matched once per list with the precompiled
# regexes (config.detection.globRegex), guards over the command, model, env and
# resource lists (config.detection.anyRegex), probes asked last.

config := __CONFIG__

_detection := config.detection

_object := input.review.object

_kind_info := config.kinds[config.kindIndex[input.review.kind.group][input.review.kind.kind]]

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

_ignored(container) if container.image in _ignored_images

# Image references (images.rego).
_image_pattern := `^([^@]+?)(?::([\w][\w.-]*))?(?:@(.+))?$`

_parsed_images := {ref: _parse_image(ref) |
	some container in _all_containers
	ref := container.image
	is_string(ref)
}

_parse_image(ref) := {"repository": _short(match[1]), "tag": match[2]} if {
	match := regex.find_all_string_submatch_n(_image_pattern, ref, 1)[0]
}

_short(name) := trim_prefix(trim_prefix(trim_prefix(name, "index.docker.io/"), "docker.io/"), "library/")

_with_tag_of(img) := concat(":", [img.repository, img.tag]) if img.tag != ""

else := img.repository

_glob_any(list, value) if regex.match(_detection.globRegex[list], value)

_image_forms := {ref: lower(_with_tag_of(img)) | some ref, img in _parsed_images}

_ignored_images contains ref if {
	some ref, form in _image_forms
	_glob_any("ignoredImagePatterns", form)
}

_engine_images contains ref if {
	some ref, form in _image_forms
	_glob_any("imagePatterns", form)
	not _glob_any("excludedImagePatterns", form)
}

_probe_images contains ref if {
	some ref, form in _image_forms
	_glob_any("acceleratorProbeImages", form)
}

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
	container.image in _engine_images
}

_signals contains sprintf("command %q", [_clip(match)]) if {
	regex.match(_detection.anyRegex.commandPatterns, concat("\n", _command_texts))
	some text in _command_texts
	regex.match(_detection.anyRegex.commandPatterns, text)
	some pattern in _detection.commandPatterns
	match := regex.find_n(pattern, text, 1)[0]
}

_signals contains sprintf("model reference %q", [_clip(match)]) if {
	regex.match(_detection.anyRegex.modelPatterns, concat("\n", _model_texts))
	some text in _model_texts
	regex.match(_detection.anyRegex.modelPatterns, text)
	some pattern in _detection.modelPatterns
	match := regex.find_n(pattern, text, 1)[0]
}

_signals contains sprintf("model reference env %s", [name]) if {
	_glob_any("modelEnv", concat("\n", _env_names))
	some name in _env_names
	_glob_any("modelEnv", name)
}

_env_names contains env.name if {
	some container in _table_containers
	some env in container.env
	is_string(env.name)
}

_signals contains sprintf("model reference storageUri %s", [_clip(container.storageUri)]) if {
	some container in _table_containers
	is_string(container.storageUri)
	container.storageUri != ""
}

_signals contains sprintf("accelerator %s", [name]) if {
	_glob_any("acceleratorResources", concat("\n", _resource_names))
	some container in _all_containers
	some section in ["limits", "requests"]
	some name, _ in container.resources[section]
	_glob_any("acceleratorResources", name)
	not _probe(container)
}

_resource_names contains name if {
	some container in _all_containers
	some section in ["limits", "requests"]
	some name, _ in container.resources[section]
}

_signals contains sprintf("DRA resource claim %s", [name]) if {
	some spec in _pod_specs
	some claim in spec.resourceClaims
	name := _claim_name(claim)
	_glob_any("resourceClaimPatterns", name)
	_working(spec)
}

_signals contains sprintf("runtime class %s", [spec.runtimeClassName]) if {
	some spec in _pod_specs
	_glob_any("runtimeClasses", spec.runtimeClassName)
	_working(spec)
}

_signals contains sprintf("env %s", [env.name]) if {
	some container in _table_containers
	some env in container.env
	env.name in _detection.acceleratorEnv
	not lower(object.get(env, "value", "")) in {"", "void", "none"}
	not _probe(container)
}

_claim_name(claim) := claim.resourceClaimTemplateName if is_string(claim.resourceClaimTemplateName)

else := claim.resourceClaimName if is_string(claim.resourceClaimName)

else := claim.name

_working(spec) if {
	some container in spec.containers
	not _probe(container)
}

_probe(container) if container.image in _probe_images

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
