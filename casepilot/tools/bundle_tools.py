"""The Python tools a case bundle brings: ``tools:`` in ``casepilot.yaml``, resolved in one place.

A bundle names the tools its bindings call, so no command needs ``--tools`` and no process
needs launcher code::

    tools:
      - loan_tools:registry          # module:attribute — a .py file in the bundle folder, or an installed module
      - mycompany.claims:TOOLS       # an installed module's attribute
      - loan                         # no colon: an entry point of the group ``casepilot.tools``

The attribute may be a ``ToolRegistry``, a ``Tool`` (or LangChain ``BaseTool``), an iterable
of them, or a function that returns one of these.

Where a module comes from:

* ``name.py`` at the top level of the bundle folder is **bundle code**: it is deployed with
  the bundle and in its content hash (a change to a tool's code is a new version), and is
  loaded from its content under a private module name (two bundles may both have a
  ``tools.py``). It is one file: helpers it imports must be installed.
* any other module comes from the environment (``sys.path``, installed packages).

Code runs only from a source its caller trusts. ``resolve_bundle_tools`` (the CLI, ``serve``,
the worker, the Python API given a folder) loads bundle code; a bundle given as files over the
HTTP API (``trust_code=False``) may only ship code this process already loaded, byte for
byte — it cannot bring new code into a server — and names no function to call.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.abc
import importlib.metadata
import importlib.util
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml
from langchain_core.tools import BaseTool

from casepilot.errors import DefinitionError

from ._model import Tool
from .langchain import from_langchain
from .registry import ToolRegistry

__all__ = [
    "ENTRY_POINT_GROUP",
    "MANIFEST_NAME",
    "ToolSpec",
    "add_tools",
    "bundle_code_files",
    "bundle_registry",
    "parse_tool_spec",
    "resolve_bundle_tools",
    "resolve_tools",
]

MANIFEST_NAME = "casepilot.yaml"
ENTRY_POINT_GROUP = "casepilot.tools"
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_ATTRIBUTE = _MODULE

_LOADED: dict[str, ModuleType] = {}
"""Bundle code loaded by this process, by sha256 of its content (the same content, one module)."""
_RESOLVED: dict[tuple[str, int], list[Tool[Any, Any]]] = {}
"""Tools a trusted resolution got, by entry and module: a later untrusted load of the same
bundle reuses them instead of calling anything."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One entry of ``tools:``: ``module:attribute`` or an entry-point name."""

    text: str
    module: str | None
    attribute: str | None
    entry_point: str | None

    def code_file(self) -> str | None:
        """The bundle file this entry's module would be (``name.py``), for a one-word module."""
        return f"{self.module}.py" if self.module is not None and "." not in self.module else None


def parse_tool_spec(text: str) -> ToolSpec:
    """``module:attribute`` or ``entry-point-name``; ``ValueError`` saying what is wrong otherwise."""
    text = text.strip()
    if ":" in text:
        module, _, attribute = text.partition(":")
        if not _MODULE.match(module) or not _ATTRIBUTE.match(attribute):
            raise ValueError(f"tool entry {text!r} is not `module:attribute` (e.g. loan_tools:registry)")
        return ToolSpec(text, module, attribute, None)
    if not re.match(r"^[A-Za-z0-9_.\-]+$", text):
        raise ValueError(f"tool entry {text!r} is neither `module:attribute` nor an entry-point name")
    return ToolSpec(text, None, None, text)


def _specs(entries: Iterable[str], where: str) -> list[ToolSpec]:
    specs: list[ToolSpec] = []
    for entry in entries:
        try:
            specs.append(parse_tool_spec(entry))
        except ValueError as exc:
            raise DefinitionError(f"tools: {exc}", file=where) from None
    return specs


# -- where code comes from -------------------------------------------------------------------------


class _ContentLoader(importlib.abc.SourceLoader):
    """Imports a module from source held in memory (a deployed bundle's tool file), so bundle
    code goes through Python's own import machinery like any installed module."""

    def __init__(self, content: bytes, origin: str) -> None:
        self._content = content
        self._origin = origin

    def get_filename(self, fullname: str) -> str:
        return self._origin

    def get_data(self, path: str) -> bytes:
        return self._content


def _load_code(name: str, content: bytes, origin: str) -> ModuleType:
    """Bundle code by content: executed once per content, under a name no user module has."""
    sha = hashlib.sha256(content).hexdigest()
    module = _LOADED.get(sha)
    if module is not None:
        return module
    private = f"casepilot_bundle_tools.{name}_{sha[:16]}"
    loader = _ContentLoader(content, origin)
    spec = importlib.util.spec_from_loader(private, loader, origin=origin)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[private] = module  # dataclasses and pydantic look their module up while it runs
    try:
        loader.exec_module(module)  # the import system runs the code the caller trusts, as for any import
    except Exception as exc:
        sys.modules.pop(private, None)
        raise DefinitionError(
            f"tool module {name} ({origin}) failed to load: {type(exc).__name__}: {exc}", file=origin) from None
    _LOADED[sha] = module
    return module


def _import(module: str, where: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module == exc.name or module.startswith(exc.name + ".")):
            raise DefinitionError(
                f"tools: no module {module!r}: put {module.split('.')[0]}.py in the "
                f"{'current' if where == '--tools' else 'bundle'} folder or install "
                f"the package that has it", file=where) from None
        raise DefinitionError(f"tools: module {module!r} failed to import: {exc}", file=where) from None
    except Exception as exc:
        raise DefinitionError(
            f"tools: module {module!r} failed to import: {type(exc).__name__}: {exc}", file=where) from None


def _entry_point(name: str, where: str) -> Any:
    found = [ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        installed = ", ".join(sorted(ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)))
        raise DefinitionError(
            f"tools: no entry point {name!r} in the group {ENTRY_POINT_GROUP!r} (installed: {installed or 'none'}); "
            "to name a module write `module:attribute`", file=where)
    try:
        return found[0].load()
    except Exception as exc:
        raise DefinitionError(
            f"tools: entry point {name!r} ({found[0].value}) failed to load: {type(exc).__name__}: {exc}",
            file=where) from None


def _attribute(module: ModuleType, spec: ToolSpec, where: str) -> Any:
    value: Any = module
    assert spec.attribute is not None
    for part in spec.attribute.split("."):
        if not hasattr(value, part):
            public = sorted(n for n in vars(module) if not n.startswith("_"))
            raise DefinitionError(
                f"tools: {spec.module} has no attribute {spec.attribute!r} (it has: {', '.join(public[:12]) or 'nothing'})",
                file=where)
        value = getattr(value, part)
    return value


def _as_tools(value: Any, spec: ToolSpec, where: str, *, call: bool) -> list[Tool[Any, Any]]:
    if callable(value) and not isinstance(value, Tool | BaseTool | ToolRegistry | type):
        if not call:
            raise DefinitionError(
                f"tools: {spec.text} is a function; a bundle sent as files may only name tools, a registry or a "
                "list of tools (nothing is called on its say-so)", file=where)
        try:
            value = value()
        except Exception as exc:
            raise DefinitionError(f"tools: {spec.text}() failed: {type(exc).__name__}: {exc}", file=where) from None
    if isinstance(value, ToolRegistry):
        return list(value)
    if isinstance(value, Tool):
        return [value]
    if isinstance(value, BaseTool):
        return [from_langchain(value)]
    if isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping):
        items = list(value)
        if all(isinstance(t, Tool | BaseTool) for t in items):
            return [t if isinstance(t, Tool) else from_langchain(t) for t in items]
    raise DefinitionError(
        f"tools: {spec.text} is a {type(value).__name__}, not a ToolRegistry, a Tool, a list of tools "
        "or a function returning one", file=where)


# -- public ------------------------------------------------------------------------------------------


def resolve_tools(
    entries: Iterable[str],
    files: Mapping[str, str | bytes] | None = None,
    *,
    origin: str = MANIFEST_NAME,
    trust_code: bool = True,
) -> list[Tool[Any, Any]]:
    """The tools named by ``entries`` (``tools:`` of a manifest); ``files`` are the bundle's files.

    ``trust_code=False`` (a bundle sent over the network): a module shipped in ``files`` is used
    only when this process already loaded the same content, and a named function is not called;
    otherwise ``DefinitionError`` (nothing of the bundle's is run).
    """
    tools: list[Tool[Any, Any]] = []
    base = Path(origin).parent
    for spec in _specs(entries, origin):
        if spec.entry_point is not None:
            value = _entry_point(spec.entry_point, origin)
            tools.extend(_cached(spec, value, value, origin, trust_code))
            continue
        assert spec.module is not None
        code_file = spec.code_file()
        if files is not None and code_file is not None and code_file in files:
            raw = files[code_file]
            content = raw.encode("utf-8") if isinstance(raw, str) else raw
            if not trust_code and hashlib.sha256(content).hexdigest() not in _LOADED:
                raise DefinitionError(
                    f"tools: the bundle ships {code_file}, code this process has not loaded, and a bundle given as "
                    f"files cannot bring new code: deploy its folder (`casepilot deploy`, Orchestrator.deploy), or "
                    f"load the tools of what is deployed first (casepilot.agent.tool_sources.registry_for_store; "
                    f"`casepilot serve` and the CLI do)", file=origin)
            module = _load_code(spec.module, content, str(base / code_file))
        else:
            module = _import(spec.module, origin)
        tools.extend(_cached(spec, module, _attribute(module, spec, origin), origin, trust_code))
    return tools


def _cached(spec: ToolSpec, source: object, value: Any, origin: str, trust_code: bool) -> list[Tool[Any, Any]]:
    key = (spec.text, id(source))
    found = _RESOLVED.get(key)
    if found is None:
        found = _as_tools(value, spec, origin, call=trust_code)
        if trust_code:
            _RESOLVED[key] = found
    return found


def _manifest_entries(files: Mapping[str, str | bytes], origin: str) -> list[str]:
    raw = files.get(MANIFEST_NAME)
    if raw is None:
        raise DefinitionError(f"no {MANIFEST_NAME} in the bundle", file=origin)
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise DefinitionError(f"the manifest is not valid YAML: {exc}", file=origin) from None
    entries = data.get("tools", []) if isinstance(data, dict) else []
    if isinstance(entries, str):
        entries = [entries]
    if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
        raise DefinitionError("tools: must be a list of `module:attribute` or entry-point names", file=origin)
    return entries


def bundle_code_files(entries: Iterable[str], folder: Path) -> list[str]:
    """The top-level ``.py`` files of ``folder`` that ``entries`` name (bundle code, deployed with it)."""
    out: list[str] = []
    for spec in _specs(entries, str(folder / MANIFEST_NAME)):
        name = spec.code_file()
        if name is not None and (folder / name).is_file():
            out.append(name)
    return out


def _folder_files(folder: Path) -> dict[str, str | bytes]:
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        raise DefinitionError(f"no {MANIFEST_NAME} in {folder}; a case bundle needs a manifest", file=str(folder))
    files: dict[str, str | bytes] = {MANIFEST_NAME: manifest.read_bytes()}
    for name in bundle_code_files(_manifest_entries(files, str(manifest)), folder):
        files[name] = (folder / name).read_bytes()
    return files


def resolve_bundle_tools(source: str | Path | Mapping[str, str | bytes] | Any) -> list[Tool[Any, Any]]:
    """The tools a bundle names in ``tools:``: ``source`` is its folder, its files (a deployed
    definition's ``files``) or a loaded ``CaseBundle``. Bundle code is trusted and run.

    Every problem is one ``DefinitionError`` line (no module, no attribute, not tools…).
    """
    if isinstance(source, str | Path):
        folder = Path(source)
        files = _folder_files(folder)
        origin = str(folder / MANIFEST_NAME)
    elif isinstance(source, Mapping):
        files = dict(source)
        origin = MANIFEST_NAME
    else:  # a CaseBundle (duck-typed: tools sit below agent)
        folder = Path(source.folder)
        files = _folder_files(folder)
        origin = str(folder / MANIFEST_NAME)
    return resolve_tools(_manifest_entries(files, origin), files, origin=origin)


def _same(a: Tool[Any, Any], b: Tool[Any, Any]) -> bool:
    """One tool twice: the same object, or made by the same code (a factory called twice)."""
    if a is b:
        return True

    def code(t: Tool[Any, Any]) -> tuple[object, object]:
        return (getattr(t.func, "__code__", t.func), getattr(t.afunc, "__code__", t.afunc))

    return a.name == b.name and a.side_effect == b.side_effect and code(a) == code(b)


def add_tools(registry: ToolRegistry, tools: Iterable[Tool[Any, Any]], *, origin: str = MANIFEST_NAME) -> None:
    """Register ``tools`` in ``registry``; one already there (the same tool) is kept; a different
    tool under a taken name is a ``DefinitionError`` (one process runs one tool per name)."""
    for t in tools:
        if t.name in registry:
            if not _same(registry.get(t.name), t):
                raise DefinitionError(
                    f"tools: the bundle's tool {t.name!r} differs from the {t.name!r} this process already has "
                    "(another bundle, another version of this one, or a built-in): rename one, or run them in "
                    "separate processes", file=origin)
            continue
        registry.register(t)


def bundle_registry(*sources: str | Path | Mapping[str, str | bytes] | Any, base: ToolRegistry | None = None) -> ToolRegistry:
    """A registry with the built-in tools (or ``base``'s) and the tools of every bundle in ``sources``."""
    from .builtin import builtin_tools

    registry = ToolRegistry(list(base) if base is not None else builtin_tools())
    for source in sources:
        add_tools(registry, resolve_bundle_tools(source))
    return registry
