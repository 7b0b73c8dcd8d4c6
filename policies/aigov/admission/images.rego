# Container image references: parsing, normalising and matching. A reference is
# `[registry/]repository[:tag][@digest]`; Docker Hub's `docker.io/`,
# `index.docker.io/` and `library/` prefixes are dropped, so `nginx`,
# `library/nginx` and `docker.io/library/nginx` are the same repository.
package aigov.admission

_image_pattern := `^([^@]+?)(?::([\w][\w.-]*))?(?:@(.+))?$`

# The parts of an image reference: repository (normalised), tag and digest ("" when absent);
# the object's images are parsed once per decision.
_image(ref) := img if {
	img := _parsed_images[ref]
} else := _parse_image(ref)

_parsed_images := {ref: _parse_image(ref) |
	some container in _all_containers
	ref := container.image
	is_string(ref)
}

_parse_image(ref) := {"repository": _docker_hub_short(match[1]), "tag": match[2], "digest": match[3]} if {
	match := regex.find_all_string_submatch_n(_image_pattern, ref, 1)[0]
}

_docker_hub_short(name) := trim_prefix(trim_prefix(trim_prefix(name, "index.docker.io/"), "docker.io/"), "library/")

# `repository[:tag]` of a parsed image: what the detection globs match (lower-cased).
_with_tag_of(img) := concat(":", [img.repository, img.tag]) if img.tag != ""

else := img.repository

# `value` matches one of the globs of the detection list named `list` (config.detection[list]),
# tested as the one regex aigov.core.globs compiled from them (config.detection.globRegex[list]):
# one regex.match instead of a glob.match per pattern, several times faster.
_glob_any(list, value) if regex.match(_config.detection.globRegex[list], value)

# An image matches an image glob list when the list matches one of its forms: the
# lower-cased normalised reference, or any trailing part of its repository path, with
# or without the tag. So `vllm*` matches `registry:5000/mirror/vllm/vllm-openai:v1`
# and `nim/**` matches `nvcr.io/nim/meta/llama3`. The list's regex
# (aigov.core.globs.any_image) tries every form in one call on the reference.
_image_forms := {ref: lower(_with_tag_of(img)) | some ref, img in _parsed_images}

_ignored_image(ref) if ref in _ignored_images

# The object's images that are infrastructure sidecars: matched once per decision.
_ignored_images contains ref if {
	some ref, form in _image_forms
	_glob_any("ignoredImagePatterns", form)
}

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
