# Detection: why a workload counts as an AI workload. Every signal is data in
# config.detection (aigov.core.config.Detection) and names its evidence in the
# AIGOV_UNGOVERNED message; docs/detection.md lists them. The heuristics read
# only the containers and pod specs the kinds table yields (no walk). violations.rego
# and decision.rego read this file, so it refers to neither (no cycle between files);
# it reads the configuration through config.rego.
package aigov.admission

_detection := _config.detection

# An AI workload: a strict namespace, a serving or training kind, or evidence
# from its containers that no not-AI declaration overrides.
_ai_workload if count(_ai_evidence) > 0

_ai_evidence contains sprintf("kind %s", [_kind]) if _serving_kind

_ai_evidence contains sprintf("namespace %s is labelled %s=%s", [input.request.namespace, _detection.strictNamespaceLabel, _detection.strictNamespaceValue]) if {
	_strict_namespace
	not _declared_not_ai
}

_ai_evidence contains evidence if {
	not _declared_not_ai
	some evidence in _signals
}

# Strict namespaces (platform teams that know where their models live): every
# workload there needs an AISystem, whatever the signals say.
_strict_namespace if input.namespace.labels[_detection.strictNamespaceLabel] == _detection.strictNamespaceValue

# An explicit, audited declaration: the not-AI label "true" with a reason
# annotation. It silences the heuristics and strict namespaces, never a serving or training kind.
_declared_not_ai if {
	_object.metadata.labels[_detection.notAiLabel] == "true"
	_not_ai_reason != ""
}

_not_ai_reason := trim_space(object.get(_object, ["metadata", "annotations", _detection.notAiReasonAnnotation], ""))

# Under 120 characters (the warning limit) with any label and annotation names of usual length.
_warnings contains sprintf("%s=true ignored: add annotation %s", [_detection.notAiLabel, _detection.notAiReasonAnnotation]) if {
	_workload_review
	_object.metadata.labels[_detection.notAiLabel] == "true"
	_not_ai_reason == ""
}

# Image: a known engine by repository name, whatever the registry and organisation,
# unless it is a platform's controller or a client tool.
_signals contains sprintf("image %s", [container.image]) if {
	some container in _table_containers
	not _ignored(container)
	container.image in _engine_images
}

# The object's images of a known engine (not excluded): matched once per decision.
_engine_images contains ref if {
	some ref, form in _image_forms
	_glob_any("imagePatterns", form)
	not _glob_any("excludedImagePatterns", form)
}

# Command: a serving or training engine in a container's command and args, or in a kind's command field.
# Each pattern is looked for only when the list's guard (config.detection.anyRegex) matches
# the texts joined (one regex.match for the usual workload, which has no such evidence),
# and then only in the texts the guard matches.
_signals contains sprintf("command %q", [_clip(match)]) if {
	regex.match(_detection.anyRegex.commandPatterns, concat("\n", _command_texts))
	some text in _command_texts
	regex.match(_detection.anyRegex.commandPatterns, text)
	some pattern in _detection.commandPatterns
	match := regex.find_n(pattern, text, 1)[0]
}

# Model reference: a model flag or URI in the command, an env var naming a model, a storageUri.
_signals contains sprintf("model reference %q", [_clip(match)]) if {
	regex.match(_detection.anyRegex.modelPatterns, concat("\n", _model_texts))
	some text in _model_texts
	regex.match(_detection.anyRegex.modelPatterns, text)
	some pattern in _detection.modelPatterns
	match := regex.find_n(pattern, text, 1)[0]
}

# The list's regex is multi-line: one match over all the names finds whether any is a model env.
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

# Accelerators: extended resources of any container (an ignored image's too), DRA
# claims, NVIDIA runtime classes and visible-device env, unless every container
# of the pod only holds or tests the device (a probe: busybox sleeping, nvidia-smi).
_signals contains sprintf("accelerator %s", [name]) if some name in _accelerators

# The cheap tests first: one match over every resource name (the list's regex is
# multi-line), then whether a container is a probe, asked only of one holding a device.
_accelerators contains name if {
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

# A pod spec with at least one container that is not a probe.
_working(spec) if {
	some container in spec.containers
	not _probe(container)
}

_probe(container) if container.image in _probe_images

# The object's images that only hold or test a device: matched once per decision.
_probe_images contains ref if {
	some ref, form in _image_forms
	_glob_any("acceleratorProbeImages", form)
}

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

# A container's command and args joined by spaces (numbers in args included).
_command_line(container) := concat(" ", [sprintf("%v", [part]) |
	some field in ["command", "args"]
	some part in object.get(container, field, [])
])

_clip(text) := text if count(text) <= 60

else := concat("", [substring(text, 0, 57), "..."])
