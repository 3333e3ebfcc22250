"""Tools belong to the bundle: ``tools:`` in ``casepilot.yaml``, resolved the same way by
``validate``, ``deploy``, the commands that work a case (from any folder, with no ``--tools``),
the service and the Python API; what a deploy stores is the files the manifest declares."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casepilot.agent.bundle import bundle_files, load_files, load_folder
from casepilot.agent.orchestrator import Orchestrator
from casepilot.agent.rule_planner import RulePlanner
from casepilot.agent.tool_sources import base_registry, registry_for_case, registry_for_store
from casepilot.cli import app
from casepilot.errors import DefinitionError
from casepilot.store import Store
from casepilot.tools import ToolRegistry, bundle_registry, resolve_bundle_tools

runner = CliRunner()

MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/CMMN/20151109/MODEL" id="d" targetNamespace="https://example.com/t">
  <caseFileItemDefinition id="cfid" name="Number" definitionType="http://www.omg.org/spec/CMMN/DefinitionType/Unspecified"/>
  <case id="{case}" name="Doubling">
    <caseFileModel id="cfm">
      <caseFileItem id="cfi_n" name="n" definitionRef="cfid"/>
      <caseFileItem id="cfi_result" name="result" definitionRef="cfid"/>
    </caseFileModel>
    <casePlanModel id="cpm" name="Doubling" autoComplete="true">
      <planItem id="pi_double" name="Double it" definitionRef="t_double"/>
      <task id="t_double" name="Double it"/>
    </casePlanModel>
  </case>
</definitions>
"""

TOOLS = '''
from pydantic import BaseModel
from casepilot.tools import ToolRegistry, tool

class Args(BaseModel):
    n: int

class Result(BaseModel):
    value: int

@tool(name="{tool}")
def double(args: Args) -> Result:
    """Multiply a number by {factor}."""
    return Result(value=args.n * {factor})

registry = ToolRegistry([double])
'''


def make_bundle(folder: Path, *, key: str = "doubling", tool: str = "double", module: str = "my_tools",
                factor: int = 2, tools_line: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.cmmn").write_text(MODEL.replace("{case}", key.replace("-", "_")), encoding="utf-8")
    (folder / "bindings.yaml").write_text(
        f"bindings:\n  - task: Double it\n    tool: {tool}\n    inputs: {{n: n}}\n    outputs: {{result: value}}\n",
        encoding="utf-8")
    (folder / f"{module}.py").write_text(
        TOOLS.replace("{tool}", tool).replace("{factor}", str(factor)), encoding="utf-8")
    line = tools_line if tools_line is not None else f"tools: [{module}:registry]"
    (folder / "casepilot.yaml").write_text(f"key: {key}\nmodel: model.cmmn\n{line}\n", encoding="utf-8")
    return folder


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_a_bundle_with_its_own_tools_is_validated_deployed_and_worked_from_another_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = make_bundle(tmp_path / "bundle")
    db = ["--db", f"sqlite:///{tmp_path}/cases.db"]
    validated = _cli("validate", str(bundle))
    # (the console wraps the line where the temporary folder's path makes it long: read it unwrapped)
    assert validated.startswith("ok   ") and "bundle doubling:" in " ".join(validated.split())
    assert "deployed doubling version 1" in _cli("deploy", str(bundle), *db)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the tool module is found through the deployed definition
    case_id = _cli("start", "doubling", "--vars", json.dumps({"n": 21}), *db).strip()
    assert "completed: case is completed" in _cli("run", case_id, *db)
    with Store.from_url(db[1]) as store:
        assert store.case(case_id).state["engine"]["variables"]["result"] == 42


def test_the_python_api_takes_the_tools_from_the_bundle(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "bundle", factor=3)
    with Store.from_url(f"sqlite:///{tmp_path}/api.db") as store:
        orch = Orchestrator(store, base_registry(), RulePlanner())
        orch.deploy(bundle)  # loads the bundle's tools into the orchestrator's registry
        case = orch.start_case("doubling", {"n": 5})
        assert orch.run(case.id).reason == "completed"
        assert store.case(case.id).state["engine"]["variables"]["result"] == 15
        orch.close()
        # a new process (a fresh registry) finds the same tools from the stored definition
        assert "double" in registry_for_case(store, case.id)
        assert "double" in registry_for_store(store)
    assert [t.name for t in resolve_bundle_tools(bundle)] == ["double"]
    assert {"double", "sentiment"} <= set(bundle_registry(bundle).names())


def test_deploy_stores_only_the_declared_files(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "bundle")
    (bundle / "scratch.txt").write_text("notes", encoding="utf-8")
    (bundle / "try_it.py").write_text("print('hello')", encoding="utf-8")
    (bundle / "old-model.cmmn").write_text("<not a model/>", encoding="utf-8")
    assert sorted(bundle_files(bundle)) == ["bindings.yaml", "casepilot.yaml", "model.cmmn", "my_tools.py"]
    before = load_folder(bundle, base_registry()).content_hash
    (bundle / "scratch.txt").write_text("other notes", encoding="utf-8")
    assert load_folder(bundle, base_registry()).content_hash == before
    (bundle / "my_tools.py").write_text(
        (bundle / "my_tools.py").read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    assert load_folder(bundle, base_registry()).content_hash != before  # tool code is part of the version
    db = ["--db", f"sqlite:///{tmp_path}/cases.db"]
    _cli("deploy", str(bundle), *db)
    with Store.from_url(db[1]) as store:
        assert sorted(store.definition("doubling").files) == ["bindings.yaml", "casepilot.yaml", "model.cmmn",
                                                              "my_tools.py"]


def test_deploy_files_stores_only_the_declared_files(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "bundle")
    files: dict[str, str | bytes] = dict(bundle_files(bundle))
    resolve_bundle_tools(bundle)  # the upload's tool code is already loaded in this process
    with Store.from_url(f"sqlite:///{tmp_path}/cases.db") as store:
        orch = Orchestrator(store, registry=bundle_registry(bundle))
        first = orch.deploy_files({**files, "scratch.txt": "notes", "try_it.py": "print('hello')"})
        assert sorted(store.definition("doubling").files) == sorted(files)
        again = orch.deploy_files({**files, "scratch.txt": "other notes"})
        assert again.version == first.version  # extras change neither the definition nor its hash
        orch.close()


@pytest.mark.parametrize(("tools_line", "message"), [
    ("tools: [no_such_module:registry]", "no module 'no_such_module': put no_such_module.py in the bundle folder"),
    ("tools: [my_tools:nothing]", "my_tools has no attribute 'nothing'"),
    ("tools: [my_tools:Args]", "is a ModelMetaclass, not a ToolRegistry"),
    ("tools: [no_entry_point_here]", "no entry point 'no_entry_point_here' in the group 'casepilot.tools'"),
    ("tools: ['my tools:x']", "is not `module:attribute`"),
])
def test_a_bad_tools_entry_is_one_clear_line(tmp_path: Path, tools_line: str, message: str) -> None:
    bundle = make_bundle(tmp_path / "bundle", tools_line=tools_line)
    validated = runner.invoke(app, ["validate", str(bundle)])
    assert validated.exit_code == 1
    assert message in " ".join(validated.output.split())
    assert "ok " not in validated.output
    deployed = runner.invoke(app, ["deploy", str(bundle), "--db", f"sqlite:///{tmp_path}/x.db"])
    assert deployed.exit_code == 1 and message in " ".join(str(deployed.exception).split())


def test_the_console_script_reports_a_missing_tool_module_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "bundle", tools_line="tools: [no_such_module:registry]")
    message = "no module 'no_such_module': put no_such_module.py in the bundle folder"
    script = subprocess.run([sys.executable, "-c", "from casepilot.cli import main; main()", "deploy", str(bundle),
                             "--db", f"sqlite:///{tmp_path}/x.db"], capture_output=True, text=True, timeout=120)
    assert script.returncode == 1
    assert message in " ".join(script.stdout.split()) and "Traceback" not in script.stderr + script.stdout


def test_validate_fails_on_an_unknown_tool_and_prints_no_ok(tmp_path: Path) -> None:
    make_bundle(tmp_path / "bundle", tools_line="")
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "unknown tool 'double'" in result.output
    assert "ok" not in result.output.split()  # the model on its own is not reported ok


def test_a_tool_module_that_fails_to_import_is_one_line(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path / "bundle")
    (bundle / "my_tools.py").write_text("import no_such_dependency_xyz\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="failed to load: ModuleNotFoundError: No module named 'no_such_dependency_xyz'"):
        load_folder(bundle, base_registry())


def test_a_bundle_sent_as_files_cannot_bring_new_code(tmp_path: Path) -> None:
    """Over the HTTP API a deployer sends files: shipped code runs only when this process already
    loaded the same bytes, and no function is called on the bundle's say-so."""
    fresh = make_bundle(tmp_path / "fresh", tool="triple", module="fresh_tools", factor=3)
    files = bundle_files(fresh)
    with pytest.raises(DefinitionError, match=r"ships fresh_tools\.py, code this process has not loaded"):
        load_files(files, base_registry())
    calling = make_bundle(tmp_path / "calling", tools_line="tools: ['os:getpid']")
    with pytest.raises(DefinitionError, match="os:getpid is a function"):
        load_files(bundle_files(calling), base_registry())
    resolve_bundle_tools(fresh)  # an operator loads it (deploy of the folder, or a service start)
    registry = base_registry()
    load_files(files, registry)
    assert "triple" in registry


def test_two_bundles_may_each_have_a_module_of_the_same_name(tmp_path: Path) -> None:
    one = make_bundle(tmp_path / "one", key="one", tool="double", module="tools", factor=2)
    two = make_bundle(tmp_path / "two", key="two", tool="triple", module="tools", factor=3)
    registry = base_registry()
    load_folder(one, registry)
    load_folder(two, registry)
    assert registry.invoke("double", {"n": 2}).result.model_dump() == {"value": 4}
    assert registry.invoke("triple", {"n": 2}).result.model_dump() == {"value": 6}
    other = make_bundle(tmp_path / "three", key="three", tool="double", module="tools", factor=5)
    with pytest.raises(DefinitionError, match="tool 'double' differs from the 'double' this process already has"):
        load_folder(other, registry)


def test_tools_from_an_entry_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    make_bundle(site / "pkg_src", module="ep_doubling_tools")
    (site / "ep_doubling_tools.py").write_text((site / "pkg_src" / "ep_doubling_tools.py").read_text(), encoding="utf-8")
    dist = site / "ep_doubling-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-doubling\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text("[casepilot.tools]\ndoubling = ep_doubling_tools:registry\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    bundle = make_bundle(tmp_path / "bundle", module="unused", tools_line="tools: [doubling]")
    registry = ToolRegistry()
    assert load_folder(bundle, registry).bindings is not None
    assert registry.names() == ["double"]


def test_the_claims_example_names_its_tools_and_the_cli_imports_no_demo(tmp_path: Path) -> None:
    from casepilot.agent.bundle import _read_manifest

    manifest = _read_manifest(Path(__file__).resolve().parents[2] / "examples" / "claims" / "casepilot.yaml")
    assert manifest.tools == ("casepilot.demo.tools:CLAIM_TOOLS",)
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; from casepilot.agent import cli; from casepilot import validation; "
         "from casepilot.api import settings; print(sorted(m for m in sys.modules if m.startswith('casepilot.demo')))"],
        capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]"
