# Image reference parsing, normalisation, pinning and approval matching.
package aigov.admission_test

import data.aigov.admission

digest := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

test_image_parts if {
	admission._image("nginx") == {"repository": "nginx", "tag": "", "digest": ""}
	admission._image("docker.io/library/nginx:1.27") == {"repository": "nginx", "tag": "1.27", "digest": ""}
	admission._image("index.docker.io/library/nginx") == {"repository": "nginx", "tag": "", "digest": ""}
	admission._image("docker.io/vllm/vllm-openai:v0.6.0") == {"repository": "vllm/vllm-openai", "tag": "v0.6.0", "digest": ""}
	admission._image(sprintf("ghcr.io/org/app:1.0@%s", [digest])) == {"repository": "ghcr.io/org/app", "tag": "1.0", "digest": digest}
	admission._image(sprintf("ghcr.io/org/app@%s", [digest])) == {"repository": "ghcr.io/org/app", "tag": "", "digest": digest}
	admission._image("localhost:5000/team/model") == {"repository": "localhost:5000/team/model", "tag": "", "digest": ""}
	admission._image("localhost:5000/team/model:v2") == {"repository": "localhost:5000/team/model", "tag": "v2", "digest": ""}
}

test_normalised if {
	admission._with_tag_of(admission._image(sprintf("docker.io/library/ollama/ollama:0.3@%s", [digest]))) == "ollama/ollama:0.3"
	admission._with_tag_of(admission._image("nvcr.io/nim/meta/llama3")) == "nvcr.io/nim/meta/llama3"
}

test_pinned if {
	admission._pinned(sprintf("vllm/vllm-openai@%s", [digest]))
	admission._pinned(sprintf("vllm/vllm-openai:v0.6.0@%s", [digest]))
	not admission._pinned("vllm/vllm-openai:v0.6.0")
	not admission._pinned("vllm/vllm-openai@md5:abc")
}

test_covers_by_tag if {
	admission._covers("vllm/vllm-openai:v0.6.0", "docker.io/vllm/vllm-openai:v0.6.0")
	admission._covers("vllm/vllm-openai:v0.6.0", sprintf("vllm/vllm-openai:v0.6.0@%s", [digest]))
	admission._covers("nginx", "nginx:latest")
	not admission._covers("vllm/vllm-openai:v0.6.0", "vllm/vllm-openai:v0.6.1")
	not admission._covers("vllm/vllm-openai:v0.6.0", "example.com/vllm/vllm-openai:v0.6.0")
}

test_covers_by_digest if {
	admission._covers(sprintf("vllm/vllm-openai@%s", [digest]), sprintf("vllm/vllm-openai:any@%s", [digest]))
	not admission._covers(sprintf("vllm/vllm-openai@%s", [digest]), "vllm/vllm-openai:v0.6.0")
	not admission._covers(sprintf("vllm/vllm-openai:v0.6.0@%s", [digest]), "vllm/vllm-openai:v0.6.0")
}
