"""DMN types: item definitions resolved to ``FeelType`` checks, and typeRef coercion.

DMN assigns every variable a declared type. When a value is bound to it (a decision
result, a BKM argument or result, a context entry, an input), the spec's conversions
apply (DMN 1.5 §10.3.2.9.4): a value that conforms passes; a singleton list whose
element conforms becomes that element (from singleton list); a value whose type is the
element type of a list type becomes a singleton list (to singleton list); a date bound to
a date and time becomes that date at 00:00:00 UTC; anything else becomes null with an
error message. ``coerce`` implements exactly that and nothing more, so a model behaves the
same here as in other conformant engines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from casepilot.dmn._model import ItemDefinitionDef
from casepilot.dmn.feel import ast, kind_of
from casepilot.dmn.feel.types import date_to_date_and_time, function_conforms, function_signature

__all__ = ["ANY", "FeelType", "TypeRegistry", "base_type", "coerce", "describe"]

TypeKind = Literal["any", "base", "list", "context", "function"]

_BASE_ALIASES: dict[str, str] = {
    "number": "number",
    "string": "string",
    "boolean": "boolean",
    "date": "date",
    "time": "time",
    "date and time": "date and time",
    "dateTime": "date and time",
    "days and time duration": "days and time duration",
    "dayTimeDuration": "days and time duration",
    "years and months duration": "years and months duration",
    "yearMonthDuration": "years and months duration",
    "duration": "duration",
    "context": "context",
    "list": "list",
    "range": "range",
    "function": "function",
    "Any": "Any",
    "any": "Any",
    "Null": "Null",
    "null": "Null",
    "integer": "number",
    "decimal": "number",
    "double": "number",
    "int": "number",
    "long": "number",
}


def _is_number(v: Any) -> bool:
    return isinstance(v, Decimal) or (isinstance(v, (int, float)) and not isinstance(v, bool))


def _is_number_fast(v: Any) -> bool:
    return v.__class__ is Decimal or _is_number(v)


def _kind(name: str) -> Callable[[Any], bool]:
    """A check by FEEL's own type naming (covers FEEL's extended dates beyond Python's range)."""
    return lambda v: kind_of(v) == name


_BASE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "number": _is_number_fast,
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "date": _kind("date"),
    "time": _kind("time"),
    "date and time": _kind("date and time"),
    "days and time duration": _kind("days and time duration"),
    "years and months duration": _kind("years and months duration"),
    "duration": lambda v: kind_of(v) in ("days and time duration", "years and months duration"),
    "context": lambda v: isinstance(v, dict),
    "list": lambda v: isinstance(v, list),
    "range": _kind("range"),
    "function": _kind("function"),
    "Null": lambda v: v is None,
}


@dataclass(frozen=True, slots=True, eq=False)
class FeelType:
    """A resolved type; ``conforms`` is the check used by typeRef coercion."""

    name: str
    kind: TypeKind
    base: str | None = None
    element: FeelType | None = None
    """Item type of a list type; output type of a function type (None: any)."""
    components: tuple[tuple[str, FeelType], ...] | None = None
    allowed: Any = None
    """Compiled unary tests restricting the values (itemDefinition allowedValues)."""
    signature: Any = None
    """A function item definition's FEEL ``function<…>->…`` type (None: any function)."""
    _base_check: Callable[[Any], bool] | None = field(default=None, init=False, repr=False, compare=False)
    check: Callable[[Any], bool] | None = field(default=None, init=False, repr=False, compare=False)
    """``conforms`` for a non-null value, as one direct call; None for the Any type (no check)."""

    def __post_init__(self) -> None:
        plain = self.kind == "base" and self.allowed is None
        object.__setattr__(self, "_base_check", _BASE_CHECKS[self.base or "Null"] if plain else None)
        if self.kind == "any":
            object.__setattr__(self, "check", None)
        else:
            object.__setattr__(self, "check", self._base_check or self.conforms)

    def conforms(self, value: Any) -> bool:
        if value is None:
            return True
        check = self._base_check
        if check is not None:
            return check(value)
        kind = self.kind
        if kind == "any":
            ok = True
        elif kind == "base":
            ok = _BASE_CHECKS[self.base or "Null"](value)
        elif kind == "list":
            ok = isinstance(value, list) and (
                self.element is None or all(self.element.conforms(v) for v in value)
            )
        elif kind == "context":
            if not isinstance(value, dict):
                return False
            ok = True
            for name, ctype in self.components or ():
                if name not in value or not ctype.conforms(value[name]):
                    return False
        elif self.signature is not None:
            ok = function_conforms(value, self.signature)
        else:
            ok = _BASE_CHECKS["function"](value)
        if ok and self.allowed is not None:
            try:
                return bool(self.allowed.matches(value))
            except Exception:  # a broken allowed-values test never crashes the caller
                return False
        return ok


ANY = FeelType("Any", "any")


def base_type(name: str) -> FeelType | None:
    """The built-in FEEL type called ``name`` (aliases such as ``dateTime`` included)."""
    canon = _BASE_ALIASES.get(name.strip())
    if canon is None:
        return None
    if canon == "Any":
        return ANY
    if canon == "list":
        return FeelType("list", "list")
    if canon == "context":
        return FeelType("context", "context")
    if canon == "function":
        return FeelType("function", "function")
    return FeelType(canon, "base", base=canon)


def describe(value: Any) -> str:
    """A short rendering of a value for messages (never raises)."""
    try:
        from casepilot.dmn.feel import to_feel_string

        text = str(to_feel_string(value))
    except Exception:
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def coerce(value: Any, t: FeelType) -> tuple[Any, str | None]:
    """Bind ``value`` to a variable of type ``t``: (value, None) or (null, error message)."""
    if value is None or t.kind == "any":
        return value, None
    if t.conforms(value):
        return value, None
    if t.kind != "list" and isinstance(value, list) and len(value) == 1 and t.conforms(value[0]):
        return value[0], None  # from singleton list
    if t.kind == "list" and not isinstance(value, list) and (t.element is None or t.element.conforms(value)):
        return coerce_singleton(value, t)  # to singleton list
    if t.base == "date and time" and kind_of(value) == "date":
        as_date_time = date_to_date_and_time(value)  # conversion from date to date and time
        if t.conforms(as_date_time):
            return as_date_time, None
    return None, f"value {describe(value)} does not conform to type {t.name!r}"


def coerce_singleton(value: Any, t: FeelType) -> tuple[Any, str | None]:
    """``[value]`` when it passes the list type's own restrictions (allowed values)."""
    wrapped = [value]
    if t.conforms(wrapped):
        return wrapped, None
    return None, f"value {describe(value)} does not conform to type {t.name!r}"


_GENERIC = re.compile(r"^\s*(list|range)\s*<(.*)>\s*$", re.S)
_CONTEXT = re.compile(r"^\s*context\s*<(.*)>\s*$", re.S)
_FUNCTION = re.compile(r"^\s*function\s*<.*>\s*->.*$", re.S)


def _split_top(text: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        parts.append("".join(cur))
    return parts


UNNAMED = "\x00"
"""Key prefix of an import whose name is empty (DMN 1.5 §6.3.3) among a model's imports: each
one is keyed ``UNNAMED + namespace`` so that several can coexist; their elements are seen
without a prefix."""


def is_unnamed(prefix: str | None) -> bool:
    """Whether an import key stands for an import with an empty name."""
    return prefix is not None and prefix.startswith(UNNAMED)


class TypeRegistry:
    """Resolves typeRefs of one model: built-ins, its item definitions, imported ones by prefix.

    ``compile_allowed`` turns allowedValues text into a matcher; ``problems`` collects
    unknown types and broken allowed values for the load-time report.
    """

    def __init__(
        self,
        items: tuple[ItemDefinitionDef, ...],
        imports: Mapping[str, TypeRegistry],
        compile_allowed: Callable[[str], Any],
    ) -> None:
        self._defs = {i.name: i for i in items}
        self._imports = imports
        self._unnamed = tuple(reg for p, reg in imports.items() if is_unnamed(p))
        self._compile_allowed = compile_allowed
        self._cache: dict[str, FeelType] = {}
        self._resolving: set[str] = set()
        self.problems: list[str] = []

    def resolve(self, type_ref: str | None) -> FeelType:
        """The type a typeRef denotes; unknown names resolve to Any and are reported."""
        if type_ref is None or not type_ref.strip():
            return ANY
        key = type_ref.strip()
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        t = self._resolve(key)
        self._cache[key] = t
        return t

    def defines(self, name: str) -> bool:
        """Whether ``name`` is an item definition of this model, of an import under its prefix
        (``prefix.name``) or of an unnamed import (DMN 1.5 §6.3.3: an import whose name is
        empty brings its elements in without a prefix)."""
        if name in self._defs:
            return True
        prefix, dot, rest = name.partition(".")
        reg = self._imports.get(prefix) if dot else None
        if reg is not None and reg.defines(rest):
            return True
        return self._unnamed_defining(name) is not None

    def _unnamed_defining(self, name: str) -> TypeRegistry | None:
        """The first unnamed import that defines ``name`` (without a prefix), if any."""
        return next((reg for reg in self._unnamed if reg.defines(name)), None)

    @property
    def has_items(self) -> bool:
        """Whether the model defines or imports item definitions (names ``instance of`` may use)."""
        return bool(self._defs) or any(reg.has_items for reg in self._imports.values())

    def check_for(self, name: str) -> Callable[[Any], bool] | None:
        """For ``instance of``: the conformance check of item definition ``name`` (``prefix.name``
        for an imported one), or None when the model defines no such type."""
        key = name.strip()
        if key not in self._defs:
            prefix, dot, rest = key.partition(".")
            reg = self._imports.get(prefix) if dot else None
            if reg is not None and reg.defines(rest):
                return reg.check_for(rest)
            unnamed = self._unnamed_defining(key)
            return unnamed.check_for(key) if unnamed is not None else None
        return self.resolve(key).conforms

    def structure_of(self, name: str) -> tuple[ast.TypeRef, bool] | None:
        """For function-type conformance: the FEEL type item definition ``name`` is built on,
        and whether it restricts it (allowed values or a type constraint at any level); None
        when the model defines no such type."""
        key = name.strip()
        if not self.defines(key):
            return None
        return _structure(self.resolve(key))

    def _resolve(self, key: str) -> FeelType:
        if key in self._defs:
            if key in self._resolving:
                return ANY  # a recursive type: accept any value below the first level
            self._resolving.add(key)
            try:
                return self._item(self._defs[key])
            finally:
                self._resolving.discard(key)
        b = base_type(key)
        if b is not None:
            return b
        if m := _GENERIC.match(key):
            inner = self.resolve(m.group(2))
            if m.group(1) == "list":
                return FeelType(key, "list", element=inner)
            return FeelType(key, "base", base="range")
        if m := _CONTEXT.match(key):
            comps = []
            for part in _split_top(m.group(1)):
                if ":" in part:
                    n, tr = part.split(":", 1)
                    comps.append((n.strip().strip('"'), self.resolve(tr)))
            return FeelType(key, "context", components=tuple(comps))
        if _FUNCTION.match(key):
            return FeelType(key, "function")
        if "." in key:
            prefix, rest = key.split(".", 1)
            reg = self._imports.get(prefix)
            if reg is not None and (reg.defines(rest) or not self._unnamed):
                return reg.resolve(rest)
        unnamed = self._unnamed_defining(key)
        if unnamed is not None:
            return unnamed.resolve(key)
        self.problems.append(f"unknown type {key!r}")
        return ANY

    def _item(self, item: ItemDefinitionDef) -> FeelType:
        name = item.name or "anonymous"
        if item.is_function:
            out = self.resolve(item.function_output) if item.function_output else None
            signature = function_signature(item.function_parameters, item.function_output)
            base: FeelType = FeelType(name, "function", element=out, signature=signature)
        elif item.components:
            comps = tuple((c.name, self._item(c)) for c in item.components)
            base = FeelType(name, "context", components=comps)
        else:
            ref = self.resolve(item.type_ref) if item.type_ref else ANY
            base = FeelType(name, ref.kind, ref.base, ref.element, ref.components, ref.allowed)
        # DMN 1.5: typeConstraint restricts the base type (each item of a collection) and
        # allowedValues the whole; without a typeConstraint, allowedValues of a collection
        # restrict its items, as DMN 1.1–1.4 read them
        constraint, allowed = item.type_constraint, item.allowed_values
        if item.is_collection and not _present(constraint):
            constraint, allowed = allowed, None
        if not item.is_collection:
            base = self._restricted(base, name, constraint)
            return self._restricted(base, name, allowed)
        element = self._restricted(base, name, constraint)
        return self._restricted(FeelType(name, "list", element=element), name, allowed)

    def _restricted(self, t: FeelType, name: str, tests: str | None) -> FeelType:
        """``t`` limited to the values the unary tests ``tests`` accept (problems recorded)."""
        if not _present(tests):
            return t
        try:
            matcher = self._compile_allowed(tests or "")
        except Exception as exc:
            self.problems.append(f"allowed values of {name!r} do not compile: {exc}")
            return t
        if t.allowed is not None:
            first, second = t.allowed, matcher
            matcher = _Both(first, second)
        return FeelType(name, t.kind, t.base, t.element, t.components, matcher)


def _structure(t: FeelType) -> tuple[ast.TypeRef, bool]:
    """``t`` as a FEEL type expression (named item definitions spelled out) and whether it
    carries a restriction anywhere."""
    restricted = t.allowed is not None
    if t.kind == "any":
        return ast.NamedType("Any"), restricted
    if t.kind == "list":
        if t.element is None:
            return ast.NamedType("list"), restricted
        element, inner = _structure(t.element)
        return ast.GenericType("list", element), restricted or inner
    if t.kind == "context":
        if t.components is None:
            return ast.NamedType("context"), restricted
        fields = []
        for name, ct in t.components:
            ft, inner = _structure(ct)
            fields.append((name, ft))
            restricted = restricted or inner
        return ast.ContextType(tuple(fields)), restricted
    if t.kind == "function":
        sig = t.signature
        return (sig if isinstance(sig, ast.FunctionType) else ast.NamedType("function")), restricted
    return ast.NamedType(t.base or "Any"), restricted


def _present(text: str | None) -> bool:
    return text is not None and bool(text.strip())


class _Both:
    """Two allowed-values matchers that must both accept (typeConstraint and allowedValues)."""

    __slots__ = ("first", "second")

    def __init__(self, first: Any, second: Any) -> None:
        self.first, self.second = first, second

    def matches(self, value: Any) -> bool:
        return bool(self.first.matches(value)) and bool(self.second.matches(value))
