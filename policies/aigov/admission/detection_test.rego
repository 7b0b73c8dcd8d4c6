package aigov.admission_test

import data.aigov.admission

# The evidence aigov finds in a Deployment with `containers` (and pod-spec `extra` fields).
evidence_of(containers, extra) := evidence if {
	evidence := admission._ai_evidence with input as review(create(deployment_with(containers, extra)), null)
		with data.aigov.config as data.testdata.config
}

deployment_with(containers, extra) := object.union(deployment({}, containers), {"spec": {"template": {"spec": extra}}})

command_container(image, command, args) := {"name": "main", "image": image, "command": command, "args": args}

env_container(image, env) := {"name": "main", "image": image, "env": env}

flagged(containers) if count(evidence_of(containers, {})) > 0

# --- images: the repository name, whatever the registry host and organisation ----------------------

test_engine_images_on_any_registry_and_organisation if {
	every image in [
		"vllm/vllm-openai:v0.6.0", "registry-1.docker.io/vllm/vllm-openai:v0.6.0",
		"mirror.gcr.io/vllm/vllm-openai", "registry:5000/vllm/vllm-openai:latest",
		"localhost:5000/vllm/vllm-openai", "harbor.corp/ml/vllm-openai:v1", "lmcache/vllm-openai:2025-05-27",
		"rocm/vllm:latest", "nvcr.io/nvidia/vllm:25.09-py3", "quay.io/ascend/vllm-ascend:v0.11.0",
		"nvcr.io/nvidia/tritonserver:24.08-py3", "ghcr.io/huggingface/text-generation-inference:2.4",
		"us-docker.pkg.dev/x/gcr.io/huggingface-text-generation-inference-cu124.2-3",
		"ghcr.io/huggingface/text-embeddings-inference:cpu-1.5", "pytorch/torchserve:0.12.0-gpu",
		"harbor.corp/hub/tensorflow/serving:2.17.0", "docker.io/library/ollama/ollama",
		"ollama/ollama@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"ghcr.io/ggml-org/llama.cpp:server-cuda", "localai/localai:latest-cpu", "lmsysorg/sglang:v0.3.0",
		"nvcr.io/nim/meta/llama-3.1-8b-instruct:1.3.3", "seldonio/mlserver:1.6.1",
		"kserve/huggingfaceserver:v0.14.0", "openvino/model_server:2024.4", "rayproject/ray-ml:2.9.0",
		"rayproject/ray-llm:2.52.0", "axolotlai/axolotl:main-latest", "nvcr.io/nvidia/tensorrt-llm/release:0.21.0",
		"763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-gpu-py310",
		"us-docker.pkg.dev/deeplearning-platform-release/gcr.io/huggingface-pytorch-training-cu121.2-3",
		"docker.io/kubeflow/pytorch-dist-mnist:latest",
	] {
		sprintf("image %s", [image]) in evidence_of([container(image)], {})
	}
}

test_plain_images_controllers_and_clients_not_detected if {
	every image in [
		"nginx:1.27", "python:3.12", "rayproject/ray:2.38.0", "tensorflow/tensorflow:2.15.0-jupyter",
		"kserve/kserve-controller:v0.14.0", "kserve/modelmesh-controller:v0.12.0", "quay.io/kuberay/operator:v1.2",
		"nvcr.io/nvidia/tritonserver:24.08-py3-sdk", "lmcache/lmstack-router:latest", "seldonio/seldon-cli:latest",
		"example.com/llm-gateway:1",
	] {
		not flagged([container(image)])
	}
}

test_mesh_proxy_image_ignored_but_its_gpus_count if {
	proxy := gpu_container("docker.io/istio/proxyv2:1.23.0", "limits")
	evidence_of([proxy], {}) == {"accelerator nvidia.com/gpu"}
}

# --- commands and model references ----------------------------------------------------------------

test_serving_and_training_commands_in_generic_images if {
	every command in [
		["vllm", "serve", "meta/x"], ["python", "-m", "vllm.entrypoints.openai.api_server"],
		["python3", "-m", "sglang.launch_server"], ["text-generation-launcher"], ["torchserve", "--start"],
		["tritonserver", "--model-repository=/m"], ["llama-server", "-m", "/m.gguf"], ["ollama", "serve"],
		["torchrun", "--nproc_per_node=8", "x.py"], ["accelerate", "launch", "x.py"], ["deepspeed", "x.py"],
		["python", "train.py"], ["sh", "-c", "pip install torch && python x.py"],
	] {
		flagged([command_container("python:3.12", command, [])])
	}
}

test_command_evidence_names_the_match if {
	c := command_container("python:3.12", ["python3"], ["-m", "vllm.entrypoints.openai.api_server", "--port", 8000])
	"command \"vllm.entrypoints\"" in evidence_of([c], {})
}

test_model_references_in_args_and_env if {
	"model reference \"--model-id=m\"" in evidence_of([command_container("example.com/s:1", [], ["--model-id=m"])], {})
	"model reference \"hf://org/model\"" in evidence_of([env_container("example.com/s:1", [{"name": "SRC", "value": "hf://org/model"}])], {})
	"model reference env HF_MODEL_ID" in evidence_of([env_container("example.com/s:1", [{"name": "HF_MODEL_ID", "value": "x"}])], {})
	not flagged([command_container("nginx:1.27", ["nginx"], ["-g", "daemon off;"])])
}

test_kind_command_fields_are_read if {
	ray_job := {
		"apiVersion": "ray.io/v1", "kind": "RayJob", "metadata": {"name": "rj"},
		"spec": {"entrypoint": "python /app/ray_train_mnist.py", "rayClusterSpec": {"headGroupSpec": {"template": {"spec": {"containers": [container("rayproject/ray:2.40.0")]}}}}},
	}
	codes(decide_create(ray_job, null)) == {"AIGOV_UNGOVERNED"}
	plain := json.patch(ray_job, [{"op": "replace", "path": "/spec/entrypoint", "value": "python /app/counter.py"}])
	decide_create(plain, null).allowed
}

# --- accelerators ---------------------------------------------------------------------------------

test_dra_claims_runtime_class_and_visible_devices if {
	app := container("example.com/app:1")
	"DRA resource claim gpu-template" in evidence_of([app], {"resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "gpu-template"}]})
	"DRA resource claim shared" in evidence_of([app], {"resourceClaims": [{"name": "shared", "resourceClaimName": "shared"}]})
	"DRA resource claim gpu" in evidence_of([app], {"resourceClaims": [{"name": "gpu"}]})
	"runtime class nvidia" in evidence_of([app], {"runtimeClassName": "nvidia"})
	"env NVIDIA_VISIBLE_DEVICES" in evidence_of([env_container("example.com/app:1", [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}])], {})
	not flagged([env_container("example.com/app:1", [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "void"}])])
}

test_probes_holding_a_device_are_not_evidence if {
	not flagged([gpu_container("nvcr.io/nvidia/k8s/cuda-sample:nbody-cuda11.7.1", "limits")])
	not flagged([object.union(gpu_container("ubuntu:22.04", "limits"), {"command": ["nvidia-smi"]})])
	count(evidence_of([container("busybox:1.36")], {"resourceClaims": [{"name": "gpu"}]})) == 0

	# A probe beside a real container does not hide the real one's accelerators.
	evidence_of([gpu_container("example.com/app:1", "limits"), container("busybox")], {}) == {"accelerator nvidia.com/gpu"}
}

# --- strict namespaces and not-AI declarations ------------------------------------------------------

strict := {"aigov.io/scope": "ai"}

not_ai(reason) := object.union(deployment({}, [gpu_container("example.com/app:1", "limits")]), {"metadata": {
	"labels": {"aigov.io/not-ai": "true"},
	"annotations": {"aigov.io/not-ai-reason": reason},
}})

test_strict_namespace_needs_an_aisystem_for_every_workload if {
	d := decide(review_in(create(deployment({}, [container("nginx:1.27")])), null, strict))
	codes(d) == {"AIGOV_UNGOVERNED"}
	contains(d.violations[0].message, "namespace ml is labelled aigov.io/scope=ai")
	decide(review_in(create(deployment({}, [container("nginx:1.27")])), null, {"aigov.io/scope": "web"})).allowed
}

test_not_ai_declaration_with_a_reason if {
	decide_create(not_ai("GPU burn-in test, no model"), null).allowed
	decide(review_in(create(not_ai("GPU burn-in test, no model")), null, strict)).allowed
}

test_not_ai_declaration_without_a_reason_is_ignored_with_a_warning if {
	d := decide(review_in(create(not_ai(" ")), null, {"aigov.io/enforcement": "warn"}))
	"aigov.io/not-ai=true ignored: add annotation aigov.io/not-ai-reason" in d.warnings
	"AIGOV_UNGOVERNED" in codes(d)
}

test_not_ai_declaration_never_overrides_a_serving_kind if {
	isvc := object.union(inference_service({}, [container("example.com/m:1")]), {"metadata": {
		"labels": {"aigov.io/not-ai": "true"},
		"annotations": {"aigov.io/not-ai-reason": "demo"},
	}})
	codes(decide_create(isvc, null)) == {"AIGOV_UNGOVERNED"}
}
