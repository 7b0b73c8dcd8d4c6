"""The Dockerfile (not buildable here: no container engine) keeps the shape the chart relies on."""

from __future__ import annotations

from pathlib import Path

from devkit.chartgen.values import Values

REPO = Path(__file__).resolve().parents[2]


def final_stage() -> str:
    return (REPO / "Dockerfile").read_text().rsplit("\nFROM ", 1)[1]


def test_multi_stage_with_nothing_built_in_the_final_stage() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert text.count("\nFROM ") == 2 and " AS build" in text
    final = final_stage()
    assert "COPY --from=build /opt/aigov /opt/aigov" in final
    assert "pip install" not in final and "apt-get" not in final


def test_runs_as_the_chart_user_with_the_aigov_entrypoint() -> None:
    final = final_stage()
    user = Values().pod_security_context["runAsUser"]
    assert f"USER {user}:{user}" in final
    assert 'ENTRYPOINT ["aigov"]' in final


def test_policies_reach_the_image_only_inside_the_wheel() -> None:
    build, final = (REPO / "Dockerfile").read_text().split("\nFROM ")[1:]
    assert "COPY policies ./policies" in build and "COPY setup.py" in build.replace("pyproject.toml ", "")
    copies = [line for line in final.splitlines() if line.startswith("COPY")]
    assert copies == ["COPY --from=build /opt/aigov /opt/aigov"]
    assert "AIGOV_POLICY_DIR" not in final
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert {"!setup.py", "!policies/", "policies/**/*_test.rego", "policies/testdata"} <= set(ignored)
