"""manifests/: rendered from the one Python definition, valid, and checkov-clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.shared.errors import InputError
from infra import kubernetes_objects as k
from kfops import manifests
from tests.conftest import REPO, run_checkov

OVERLAYS = ("aws", "kind")


def test_rendered_manifests_are_up_to_date() -> None:
    assert manifests.write(check=True) == []


def test_a_stale_or_missing_file_is_found_and_rewritten_only_without_check(tmp_path: Path) -> None:
    """The check compares content: an edited file is stale, not just a missing one."""
    root = tmp_path / "manifests"
    shutil.copytree(manifests.MANIFESTS, root)
    rendered = manifests.render()
    edited, removed = sorted(rendered)[:2]
    (root / edited).write_text((root / edited).read_text() + "# hand edit\n")
    (root / removed).unlink()
    assert sorted(manifests.write(check=True, root=root)) == sorted([edited, removed])
    assert (root / edited).read_text().endswith("# hand edit\n") and not (root / removed).exists()
    assert sorted(manifests.write(root=root)) == sorted([edited, removed])
    assert (root / edited).read_text() == rendered[edited] and (root / removed).read_text() == rendered[
        removed
    ]
    assert manifests.write(check=True, root=root) == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_of_every_overlay_validates_strictly(overlay: str) -> None:
    objects = manifests.overlay_objects(overlay)
    assert objects
    assert [p for o in objects for p in manifests.validate_object(o)] == []


@pytest.mark.parametrize(
    ("build", "path", "typo"),
    [
        (lambda: k.pod_default(k.ProfileValues("ns", "s3://b/pipelines")), ("spec",), "volumeMount"),
        (
            lambda: k.machine_token_authentication(
                k.EdgeValues("h.example.com", "arn", ("10.0.0.0/8",), "internal", "", "https://issuer")
            ),
            ("spec",),
            "jwtRule",
        ),
        (lambda: k.ci_service_account(k.ProfileValues("ns", "s3://b/pipelines")), (), "automountToken"),
        (
            lambda: k.ingress(
                k.EdgeValues("h.example.com", "arn", ("10.0.0.0/8",), "internal", "", "https://x")
            ),
            ("spec",),
            "rule",
        ),
    ],
)
def test_validation_rejects_a_misspelled_field(build: Any, path: tuple[str, ...], typo: str) -> None:
    obj = build()
    assert manifests.validate_object(obj) == []
    target = obj
    for key in path:
        target = target[key]
    target[typo] = []
    problems = manifests.validate_object(obj)
    assert problems and typo in problems[0]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) is not installed")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubectl_kustomize_renders_the_same_objects(overlay: str) -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(REPO / "manifests" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    by_kubectl = sorted((d for d in yaml.safe_load_all(rendered) if d), key=_key)
    assert by_kubectl == sorted(manifests.overlay_objects(overlay), key=_key)


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def test_checkov_finds_nothing_in_the_overlays(tmp_path: Path) -> None:
    for overlay in OVERLAYS:
        (tmp_path / overlay).mkdir()
        objects = manifests.overlay_objects(overlay)
        (tmp_path / overlay / "all.yaml").write_text("---\n".join(yaml.safe_dump(o) for o in objects))
    result = run_checkov(tmp_path, "kubernetes")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Failed checks: 0" in result.stdout


def test_kind_overlay_points_the_launcher_at_the_in_cluster_store() -> None:
    launcher = next(o for o in manifests.overlay_objects("kind") if o["metadata"]["name"] == "kfp-launcher")
    assert launcher["data"]["defaultPipelineRoot"] == "s3://mlpipeline/pipelines"
    assert "seaweedfs.kubeflow:9000" in launcher["data"]["providers"]  # KFP 2.17 ships SeaweedFS


def test_a_truncated_file_is_stale_and_an_empty_root_is_written_in_full(tmp_path: Path) -> None:
    rendered = manifests.render()
    assert sorted(manifests.write(root=tmp_path / "fresh")) == sorted(rendered)  # nested folders made
    assert {r: (tmp_path / "fresh" / r).read_text() for r in rendered} == rendered
    first = sorted(rendered)[0]
    (tmp_path / "fresh" / first).write_text(rendered[first][:-10])  # a prefix: "smaller", still stale
    assert manifests.write(check=True, root=tmp_path / "fresh") == [first]


def test_a_patch_changes_only_the_object_it_names() -> None:
    def config_map(name: str, data: dict[str, str]) -> str:
        return yaml.safe_dump(
            {"kind": "ConfigMap", "metadata": {"name": name, "namespace": "n"}, "data": data}
        )

    files = {
        "base/kustomization.yaml": yaml.safe_dump({"resources": ["maps.yaml"]}),
        "base/maps.yaml": config_map("a", {"k": "a"}) + "---\n" + config_map("b", {"k": "b"}),
        "overlays/x/kustomization.yaml": yaml.safe_dump(
            {"resources": ["../../base"], "patches": [{"path": "p.yaml"}]}
        ),
        "overlays/x/p.yaml": config_map("b", {"k": "patched"}),
    }
    objects = {o["metadata"]["name"]: o["data"] for o in manifests.overlay_objects("x", files)}
    assert objects == {"a": {"k": "a"}, "b": {"k": "patched"}}


def test_crd_schemas_skip_empty_and_other_documents_before_a_crd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    crd = {
        "kind": "CustomResourceDefinition",
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget"},
            "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object", "properties": {}}}}],
        },
    }
    others = [None, {"kind": "ConfigMap"}, {"kind": "Service"}]  # sort before and after the CRD's kind
    (tmp_path / "widgets.yaml").write_text(yaml.safe_dump_all([*others, crd]))
    monkeypatch.setattr(manifests, "SCHEMAS", tmp_path)
    schemas = manifests._crd_schemas.__wrapped__()
    assert list(schemas) == [("example.com/v1", "Widget")]


def test_an_unknown_kind_and_broken_yaml_are_named() -> None:
    problems = manifests.validate_object(
        {"apiVersion": "example.com/v9", "kind": "Nope", "metadata": {"name": "x"}}
    )
    assert problems == ["Nope/x: no schema for example.com/v9 Nope"]
    with pytest.raises(InputError, match=r"^broken\.yaml is not valid YAML"):
        manifests.validate_documents("a: [b\n", "broken.yaml")
