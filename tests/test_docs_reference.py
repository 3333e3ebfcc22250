"""docs/reference is what ``python -m casepilot.docs_reference`` writes from the pydantic models,
and those models are the shapes the loaders accept (issue 16: a reference that cannot drift)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from casepilot import docs_reference
from casepilot.agent.manifest import GovernanceSpec, Manifest
from casepilot.demo.run import EXAMPLE
from casepilot.scaffold import scaffold
from casepilot.tools import binding_loader
from casepilot.tools.bindings_schema import BindingEntry, BindingsFile, LiteralSource, PathSource

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "reference"


@pytest.mark.parametrize("name", sorted(docs_reference.REFERENCES))
def test_the_committed_reference_is_what_the_models_generate(name: str) -> None:
    committed = (DOCS / name).read_text(encoding="utf-8")
    assert committed == docs_reference.REFERENCES[name](), (
        f"docs/reference/{name} is out of date: run `python -m casepilot.docs_reference`")
    links = re.findall(r"\]\((\.\./[^)]+)\)", committed)
    assert links and all((DOCS / link).resolve().is_file() for link in links), links


def test_check_mode_tells_a_stale_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert docs_reference.main([str(tmp_path)]) == 0
    assert docs_reference.main(["--check", str(tmp_path)]) == 0
    stale = tmp_path / "bindings-yaml.md"
    stale.write_text(stale.read_text(encoding="utf-8").replace("One entry per task", "Entries"), encoding="utf-8")
    assert docs_reference.main(["--check", str(tmp_path)]) == 1
    assert f"{stale} is out of date" in capsys.readouterr().err


def test_every_field_is_documented_and_a_new_one_without_a_docstring_is_refused() -> None:
    for model in (Manifest, GovernanceSpec, BindingsFile, BindingEntry):
        docs = docs_reference.field_docs(model)
        assert set(docs) == set(model.model_fields), model.__name__

    class Undocumented(BindingsFile):
        extra_field: int = 0

    with pytest.raises(ValueError, match="Undocumented: fields without a docstring: extra_field"):
        docs_reference._section(Undocumented, [], "##")


def test_the_reference_names_every_key_the_manifest_accepts() -> None:
    text = (DOCS / "casepilot-yaml.md").read_text(encoding="utf-8")
    for model, _ in docs_reference._models(Manifest):
        for name in model.model_fields:
            assert f"| `{name}` |" in text, f"{model.__name__}.{name}"


def test_the_bindings_models_accept_exactly_the_keys_the_loader_reads() -> None:
    assert set(BindingEntry.model_fields) == set(binding_loader._ENTRY_KEYS)
    assert set(BindingsFile.model_fields) == {"bindings", "version"}  # the loader's top-level keys


def test_the_shipped_and_scaffolded_bundles_fit_the_models(tmp_path: Path) -> None:
    loan = scaffold("loan", tmp_path)
    for folder in (EXAMPLE, loan):
        Manifest.model_validate(yaml.safe_load((folder / "casepilot.yaml").read_text(encoding="utf-8")))
        bindings = BindingsFile.model_validate(yaml.safe_load((folder / "bindings.yaml").read_text(encoding="utf-8")))
        assert bindings.bindings
    spelled = BindingsFile.model_validate({"bindings": [{"task": "t", "tool": "x", "inputs": {
        "a": "letter", "b": 3, "c": None, "d": {"literal": {"k": 1}}, "e": {"path": "claim.amount"}}}]})
    inputs = spelled.bindings[0].inputs
    assert inputs["a"] == "letter" and inputs["b"] == 3 and inputs["c"] is None
    assert inputs["d"] == LiteralSource(literal={"k": 1}) and inputs["e"] == PathSource(path="claim.amount")
    with pytest.raises(ValueError, match="Extra inputs are not permitted"):
        BindingsFile.model_validate({"bindings": [{"task": "t", "tool": "x", "input": {}}]})  # a typo is refused


def test_the_design_document_names_modules_and_packages_that_exist() -> None:
    text = (ROOT / "docs" / "DESIGN.md").read_text(encoding="utf-8")
    text = text[:text.index("## Examples to follow")]  # that section names other projects' files
    package = ROOT / "casepilot"
    files = {p.relative_to(package).as_posix() for p in package.rglob("*.py")}
    named = set(re.findall(r"`([\w/]+\.py)`", text))
    assert named, "DESIGN.md names no module"
    missing = sorted(n for n in named if not any(f == n or f.endswith("/" + n) for f in files))
    assert missing == [], f"DESIGN.md names modules that do not exist: {missing}"
    packages = re.findall(r"^\| `(\w+)/` \|", text, re.MULTILINE)
    assert len(packages) >= 10
    assert [p for p in packages if not (package / p / "__init__.py").is_file()] == []
    # every package of casepilot is in the table
    assert sorted(p.name for p in package.iterdir() if (p / "__init__.py").is_file()) == sorted(packages)
    for link in re.findall(r"\]\(([\w/.-]+\.md)\)", text):
        assert (ROOT / "docs" / link).is_file(), link
