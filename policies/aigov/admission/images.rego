# Container image references: parsing, normalising and matching. A reference is
# `[registry/]repository[:tag][@digest]`; Docker Hub's `docker.io/`,
# `index.docker.io/` and `library/` prefixes are dropped, so `nginx`,
# `library/nginx` and `docker.io/library/nginx` are the same repository.
package aigov.admission

_image_pattern := `^([^@]+?)(?::([\w][\w.-]*))?(?:@(.+))?$`

# The parts of an image reference: repository (normalised), tag and digest ("" when absent).
_image(ref) := {"repository": _docker_hub_short(match[1]), "tag": match[2], "digest": match[3]} if {
	match := regex.find_all_string_submatch_n(_image_pattern, ref, 1)[0]
}

_docker_hub_short(name) := trim_prefix(trim_prefix(trim_prefix(name, "index.docker.io/"), "docker.io/"), "library/")

# `repository[:tag]`: what the detection globs match.
_normalised(ref) := concat(":", [img.repository, img.tag]) if {
	img := _image(ref)
	img.tag != ""
} else := _image(ref).repository

# `value` matches one of the globs of the detection list named `list` (config.detection[list]),
# tested as the one regex aigov.core.globs compiled from them (config.detection.globRegex[list]):
# one regex.match instead of a glob.match per pattern, several times faster.
_glob_any(list, value) if regex.match(_config.detection.globRegex[list], value)

# `ref` matches one of the image globs of the detection list `list`: the lower-cased
# normalised reference, or any trailing part of its repository path (registry
# host removed), with or without the tag. So `vllm*` matches
# `registry:5000/mirror/vllm/vllm-openai:v1` and `nim/**` matches `nvcr.io/nim/meta/llama3`.
_image_matches(list, ref) if {
	some candidate in _image_candidates(ref)
	_glob_any(list, candidate)
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

# A first path component with a `.` or `:`, or `localhost`, is a registry host (Docker's rule).
_without_host(repository) := concat("/", array.slice(parts, 1, count(parts))) if {
	parts := split(repository, "/")
	count(parts) > 1
	_registry_host(parts[0])
} else := repository

_registry_host(part) if contains(part, ".")

_registry_host(part) if contains(part, ":")

_registry_host("localhost")

_ignored_image(ref) if _image_matches("ignoredImagePatterns", ref)

_pinned(ref) if startswith(_image(ref).digest, "sha256:")

# `approved` (an entry of an approval's `images`) covers the workload image `ref`:
# same repository and, when `approved` names a digest, the same digest, else the same tag.
_covers(approved, ref) if {
	a := _image(approved)
	r := _image(ref)
	a.repository == r.repository
	_same_version(a, r)
}

_same_version(a, r) if {
	a.digest != ""
	a.digest == r.digest
}

_same_version(a, r) if {
	a.digest == ""
	_tag_or_latest(a) == _tag_or_latest(r)
}

_tag_or_latest(img) := img.tag if img.tag != ""

else := "latest"
