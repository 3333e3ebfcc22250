"""Provenance of process data and of service-task arguments (DESIGN.md: provenance travels with data).

A process variable is trusted when it came from the request that started the process or
from a person (a user task's form), untrusted when a tool wrote it (a document read, an
API answered), a message brought it, or the engine derived it in a step no person took:
fail safe — a value nobody can vouch for counts as untrusted, so the provenance rule asks a
person before a non-idempotent tool acts on it.

An argument of a service task is a FEEL expression over process variables (``cp:input``):
it is trusted only when every variable it reads is; a literal written in the model is
trusted (the modeler wrote it). Provenance is kept per top-level variable, as
``casepilot.tools.Provenance`` records, in the runner's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from casepilot.dmn.feel import compile_expression
from casepilot.dmn.feel._runtime import builtin_names
from casepilot.tools.binding import UNKNOWN_SOURCE, Provenance

__all__ = ["argument_provenance", "changed", "dump_provenance", "load_provenance"]


def changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Top-level variables that are new or hold another value."""
    return sorted(k for k, v in after.items() if k not in before or before[k] != v)


def _reads(expression: str) -> list[str]:
    names = compile_expression(expression.strip()).free_names if expression.strip() else frozenset()
    builtins = builtin_names()
    return sorted(n for n in names if n not in builtins)


def argument_provenance(inputs: Sequence[Sequence[str]], provenance: Mapping[str, Provenance],
                        element: str) -> dict[str, Provenance]:
    """Per argument: untrusted (with the first untrusted variable's source) when any variable it reads is."""
    out: dict[str, Provenance] = {}
    for name, expression in inputs:
        reads = _reads(expression)
        if not reads:
            out[name] = Provenance("trusted", f"model:{element}")
            continue
        found = [(var, provenance.get(var, Provenance.untrusted(UNKNOWN_SOURCE))) for var in reads]
        bad = [(var, p) for var, p in found if not p.is_trusted]
        var, chosen = bad[0] if bad else found[0]
        out[name] = Provenance(chosen.trust, chosen.source, via=var)
    return out


def dump_provenance(provenance: Mapping[str, Provenance]) -> dict[str, list[str]]:
    return {k: [p.trust, p.source] for k, p in sorted(provenance.items())}


def load_provenance(data: Mapping[str, Iterable[str]]) -> dict[str, Provenance]:
    out: dict[str, Provenance] = {}
    for name, pair in data.items():
        trust, source = list(pair)
        out[name] = Provenance("trusted" if trust == "trusted" else "untrusted", source)
    return out
