"""Externally defined functions (DMN 1.5 §10.3.2.13.3): ``java`` mappings and ``pmml`` refusal.

A FEEL ``function(a, b) external {java: {class: "java.lang.Math", method signature:
"max(double, double)"}}`` (or a boxed function of kind ``Java`` whose body is that context)
names a static Java method. There is no JVM here: the static methods of ``java.lang.Math``,
``java.lang.String``, ``java.lang.Integer``, ``java.lang.Long`` and ``java.lang.Double`` (and the
parse/valueOf methods of ``Float``, ``Short`` and ``Byte``) that
JVM engines are commonly asked for are mapped to Python equivalents with Java's semantics
(double arithmetic, integer truncation, ``Double.toString`` shapes turned into FEEL numbers).
Any other class or method, and every PMML external, is refused with a message naming it —
the result is FEEL null, never a guess.

``float`` overloads of ``Math`` compute in single precision, and ``Double.toString`` /
``Float.toString`` print as Java does (``1.0E-4``, ``1.23456785E7``).

Arguments are converted per the signature's parameter types (``double``/``float`` → float,
``int``/``long``/``short``/``byte`` → int, ``java.lang.String``/``String`` → str, ``char`` →
one-character string); results come back as FEEL values (numbers as ``Decimal`` built from
the shortest decimal form of the double, as ``BigDecimal.valueOf(double)`` does).
"""

from __future__ import annotations

import math
import random
import re
import struct
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .values import FEEL_DECIMAL

__all__ = ["ExternalFunction", "JavaMappingError", "compile_external", "external_function"]


class JavaMappingError(ValueError):
    """The external definition names something this engine does not provide."""


_INT_TYPES = {"int", "long", "short", "byte", "java.lang.Integer", "java.lang.Long", "java.lang.Short"}
_FLOAT_TYPES = {"double", "float", "java.lang.Double", "java.lang.Float"}
_STRING_TYPES = {"java.lang.String", "String"}
_SIGNATURE = re.compile(r"\s*([A-Za-z_$][\w$]*)\s*\(([^()]*)\)\s*")
_INT32 = 2**31
_INT64 = 2**63


def _wrap(value: int, bits: int) -> int:
    """Two's-complement overflow, as Java's ``int``/``long`` arithmetic."""
    half = 1 << (bits - 1)
    return (value + half) % (2 * half) - half


def _round_java(x: float) -> int:
    """``Math.round``: floor(x + 0.5)."""
    return math.floor(x + 0.5)


def _signum(x: float) -> float:
    return math.copysign(1.0, x) if x != 0 and not math.isnan(x) else x


def _java_double_string(x: float, digits: str | None = None) -> str:
    """``Double.toString``: ``1.0``, ``1.5``, ``0.001``, ``1.0E-4``, ``1.2345678E7``, ``NaN``,
    ``Infinity`` — plain between 10^-3 and 10^7, computerized scientific notation outside.
    ``digits`` is the shortest decimal form to print (``Float.toString`` passes its own)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0.0" if math.copysign(1, x) > 0 else "-0.0"
    value = Decimal(digits if digits is not None else repr(x))
    sign = "-" if value < 0 else ""
    if 1e-3 <= abs(x) < 1e7:
        text = format(abs(value), "f")
        return sign + (text if "." in text else text + ".0")
    _, numerals, exponent = value.as_tuple()
    shown = "".join(map(str, numerals)).rstrip("0") or "0"
    power = len(numerals) - 1 + int(exponent)
    return f"{sign}{shown[0]}.{shown[1:] or '0'}E{power}"


def _float_digits(x: float) -> str:
    """The shortest decimal that reads back as the same Java ``float``."""
    for precision in range(1, 10):
        text = f"{x:.{precision}g}"
        if _float32(float(text)) == x:
            return text
    return repr(x)


def _java_float_string(x: float) -> str:
    """``Float.toString``."""
    if math.isnan(x) or math.isinf(x) or x == 0:
        return _java_double_string(x)
    return _java_double_string(x, _float_digits(x))


def _int_parse(text: str, radix: int = 10, bits: int = 32) -> int:
    try:
        if not re.fullmatch(r"[+-]?[0-9A-Za-z]+", text):
            raise ValueError(text)
        value = int(text, radix)
    except ValueError:
        raise JavaMappingError(f"NumberFormatException: for input string {text!r}") from None
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise JavaMappingError(f"NumberFormatException: {text!r} out of range")
    return value


def _double_parse(text: str) -> float:
    try:
        return float(text.strip().rstrip("dDfF"))
    except ValueError:
        raise JavaMappingError(f"NumberFormatException: for input string {text!r}") from None


def _float32(x: float) -> float:
    """A Java ``float`` (single precision), handed on as the double it widens to."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def _format(template: str, *args: Any) -> str:
    """``String.format`` for the common conversions (%s %d %f %.Nf %x %n %%)."""
    values = iter(args)

    def one(m: re.Match[str]) -> str:
        spec, conv = m.group(1), m.group(2)
        if conv == "%":
            return "%"
        if conv == "n":
            return "\n"
        value = next(values, None)
        if conv == "s":
            return ("%" + spec + "s") % _java_string(value)
        if not isinstance(value, (int, float)):
            raise JavaMappingError(f"IllegalFormatConversionException: %{conv} needs a number")
        if conv in "dx":
            return str(("%" + spec + conv) % int(value))
        return str(("%" + spec + conv) % float(value))

    return re.sub(r"%([-#+ 0,(]*\d*(?:\.\d+)?)([sdfxen%])", one, template)


def _java_string(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double_string(value)
    return str(value)


_D = "double"
_I = "int"
_L = "long"
_S = "java.lang.String"

# (class, method, parameter kinds) → implementation; kinds are normalised type names
_METHODS: dict[tuple[str, str, tuple[str, ...]], Callable[..., Any]] = {}


def _add(cls: str, method: str, kinds: tuple[str, ...], impl: Callable[..., Any]) -> None:
    _METHODS[(cls, method, kinds)] = impl


_UNARY: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x),
    "exp": math.exp,
    "expm1": math.expm1,
    "log": math.log,
    "log10": math.log10,
    "log1p": math.log1p,
    "floor": lambda x: float(math.floor(x)),
    "ceil": lambda x: float(math.ceil(x)),
    "rint": lambda x: float(round(x)),
    "signum": _signum,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "sinh": math.sinh,
    "cosh": math.cosh,
    "tanh": math.tanh,
    "toRadians": math.radians,
    "toDegrees": math.degrees,
    "abs": abs,
}
_BINARY: dict[str, Callable[..., Any]] = {
    "max": max,
    "min": min,
    "pow": math.pow,
    "atan2": math.atan2,
    "hypot": math.hypot,
    "IEEEremainder": math.remainder,
}
for _name, _fn in _UNARY.items():
    _add("java.lang.Math", _name, (_D,), _fn)
for _name, _fn in _BINARY.items():
    _add("java.lang.Math", _name, (_D, _D), _fn)
for _bits, _kind in ((32, _I), (64, _L)):
    _add("java.lang.Math", "abs", (_kind,), lambda x, b=_bits: _wrap(abs(x), b))
    _add("java.lang.Math", "max", (_kind, _kind), max)
    _add("java.lang.Math", "min", (_kind, _kind), min)
    _add("java.lang.Math", "floorDiv", (_kind, _kind), lambda a, b: a // b)
    _add("java.lang.Math", "floorMod", (_kind, _kind), lambda a, b: a % b)
    _add("java.lang.Math", "addExact", (_kind, _kind), lambda a, b, n=_bits: _exact(a + b, n))
    _add("java.lang.Math", "subtractExact", (_kind, _kind), lambda a, b, n=_bits: _exact(a - b, n))
    _add("java.lang.Math", "multiplyExact", (_kind, _kind), lambda a, b, n=_bits: _exact(a * b, n))
    _add("java.lang.Math", "negateExact", (_kind,), lambda a, n=_bits: _exact(-a, n))
_add("java.lang.Math", "round", (_D,), _round_java)
_add("java.lang.Math", "round", ("float",), _round_java)


def _exact(value: int, bits: int) -> int:
    if _wrap(value, bits) != value:
        raise JavaMappingError("ArithmeticException: integer overflow")
    return value


for _cls, _bits, _prim in (("java.lang.Integer", 32, _I), ("java.lang.Long", 64, _L)):
    _add(_cls, "valueOf", (_S,), lambda t, b=_bits: _int_parse(t, 10, b))
    _add(_cls, "valueOf", (_prim,), lambda x: x)
    _add(_cls, "valueOf", (_S, _I), lambda t, r, b=_bits: _int_parse(t, r, b))
    _add(_cls, "parse" + ("Int" if _bits == 32 else "Long"), (_S,), lambda t, b=_bits: _int_parse(t, 10, b))
    _add(
        _cls,
        "parse" + ("Int" if _bits == 32 else "Long"),
        (_S, _I),
        lambda t, r, b=_bits: _int_parse(t, r, b),
    )
    _add(_cls, "toString", (_prim,), str)
    _add(_cls, "toString", (_prim, _I), lambda x, r: _to_radix(x, r))
    _add(_cls, "toHexString", (_prim,), lambda x, b=_bits: format(x % 2**b, "x"))
    _add(_cls, "toBinaryString", (_prim,), lambda x, b=_bits: format(x % 2**b, "b"))
    _add(_cls, "max", (_prim, _prim), max)
    _add(_cls, "min", (_prim, _prim), min)
    _add(_cls, "sum", (_prim, _prim), lambda a, b, n=_bits: _wrap(a + b, n))
    _add(_cls, "signum", (_prim,), lambda x: (x > 0) - (x < 0))
    _add(_cls, "compare", (_prim, _prim), lambda a, b: (a > b) - (a < b))
_add("java.lang.Double", "valueOf", (_S,), _double_parse)
_add("java.lang.Double", "valueOf", (_D,), lambda x: x)
_add("java.lang.Double", "parseDouble", (_S,), _double_parse)
_add("java.lang.Double", "toString", (_D,), _java_double_string)
_add("java.lang.Double", "max", (_D, _D), max)
_add("java.lang.Double", "min", (_D, _D), min)
_add("java.lang.Double", "sum", (_D, _D), lambda a, b: a + b)
_add("java.lang.Double", "compare", (_D, _D), lambda a, b: (a > b) - (a < b))
_add("java.lang.Double", "isNaN", (_D,), math.isnan)
_add("java.lang.Double", "isInfinite", (_D,), math.isinf)
_add("java.lang.Double", "isFinite", (_D,), math.isfinite)
_add("java.lang.Float", "valueOf", (_S,), lambda t: _float32(_double_parse(t)))
_add("java.lang.Float", "parseFloat", (_S,), lambda t: _float32(_double_parse(t)))
_add("java.lang.Float", "valueOf", ("float",), _float32)
_add("java.lang.Short", "valueOf", (_S,), lambda t: _int_parse(t, 10, 16))
_add("java.lang.Short", "parseShort", (_S,), lambda t: _int_parse(t, 10, 16))
_add("java.lang.Byte", "valueOf", (_S,), lambda t: _int_parse(t, 10, 8))
_add("java.lang.Byte", "parseByte", (_S,), lambda t: _int_parse(t, 10, 8))
for _prim in (_D, _I, _L, "boolean", "char", "java.lang.Object", _S):
    _add("java.lang.String", "valueOf", (_prim,), _java_string)
_add("java.lang.String", "valueOf", ("float",), lambda x: _java_float_string(_float32(x)))
_add("java.lang.Float", "toString", ("float",), lambda x: _java_float_string(_float32(x)))
_add("java.lang.Math", "random", (), random.random)


def _single(impl: Callable[..., Any]) -> Callable[..., Any]:
    """The ``float`` overload of a ``double`` method: arguments and result in single precision."""

    def call(*args: Any) -> Any:
        result = impl(*(_float32(a) if isinstance(a, float) else a for a in args))
        return _float32(result) if isinstance(result, float) else result

    return call


for (_c, _m, _k), _impl in list(_METHODS.items()):
    if (
        _c == "java.lang.Math"
        and _k
        and all(k == _D for k in _k)
        and (_c, _m, ("float",) * len(_k)) not in _METHODS
    ):
        _add(_c, _m, ("float",) * len(_k), _single(_impl))
_add("java.lang.String", "format", (_S, "java.lang.Object..."), _format)


def _to_radix(value: int, radix: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if not 2 <= radix <= 36:
        radix = 10
    if value == 0:
        return "0"
    sign, value, out = ("-" if value < 0 else ""), abs(value), ""
    while value:
        value, rest = divmod(value, radix)
        out = digits[rest] + out
    return sign + out


def _normalise(kind: str) -> str:
    kind = kind.strip()
    if kind in ("java.lang.Object[]", "[Ljava.lang.Object;", "Object...", "java.lang.Object..."):
        return "java.lang.Object..."
    if kind in _STRING_TYPES:
        return _S
    if kind == "Object":
        return "java.lang.Object"
    return {
        "java.lang.Integer": _I,
        "java.lang.Long": _L,
        "java.lang.Double": _D,
        "java.lang.Float": "float",
        "java.lang.Boolean": "boolean",
        "java.lang.Character": "char",
    }.get(kind, kind)


def _to_java(value: Any, kind: str) -> Any:
    if kind in _FLOAT_TYPES or kind == _D:
        if isinstance(value, Decimal):
            return float(value)
    elif kind in _INT_TYPES or kind in (_I, _L):
        if isinstance(value, Decimal) and value.is_finite():
            return int(value)
    elif kind == _S:
        if isinstance(value, str):
            return value
    elif kind == "char":
        if isinstance(value, str) and len(value) == 1:
            return value
    elif kind == "boolean":
        if isinstance(value, bool):
            return value
    else:
        return (
            float(value)
            if isinstance(value, Decimal) and value != value.to_integral_value()
            else (int(value) if isinstance(value, Decimal) else value)
        )
    raise JavaMappingError(f"argument {value!r} cannot be passed as Java {kind}")


def _to_feel(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return FEEL_DECIMAL.create_decimal(repr(value))
    return value


class ExternalFunction:
    """A FEEL function value bound to a mapped Java static method (a ``FeelFunction``)."""

    __slots__ = ("_impl", "_kinds", "_label", "_names")

    def __init__(self, names: tuple[str, ...], label: str, kinds: tuple[str, ...], impl: Callable[..., Any]):
        self._names = names
        self._label = label
        self._kinds = kinds
        self._impl = impl

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return self._names

    def invoke(self, args: list[Any] | None = None, named: dict[str, Any] | None = None) -> Any:
        """Call the mapped method; bad arguments or a Java exception raise ``ValueError``
        (the FEEL runtime turns it into null with the message)."""
        values = [named.get(n) for n in self._names] if named is not None else list(args or [])
        varargs = bool(self._kinds) and self._kinds[-1] == "java.lang.Object..."
        fixed = self._kinds[:-1] if varargs else self._kinds
        if len(values) < len(fixed) or (not varargs and len(values) != len(fixed)):
            raise JavaMappingError(f"{self._label} takes {len(fixed)} arguments, {len(values)} given")
        if varargs and len(values) == len(fixed) + 1 and isinstance(values[-1], list):
            values = values[:-1] + list(values[-1])
        if any(v is None for v in values[: len(fixed)]):
            return None
        java = [_to_java(v, k) for v, k in zip(values, fixed, strict=False)]
        java += [_to_java(v, "java.lang.Object") for v in values[len(fixed) :]]
        try:
            return _to_feel(self._impl(*java))
        except (ArithmeticError, ValueError) as exc:
            raise JavaMappingError(f"{self._label}: {exc}") from None

    def __repr__(self) -> str:
        return f"external {self._label}"


def external_function(names: tuple[str, ...], body: Any) -> ExternalFunction:
    """The function an ``external`` body describes, or :class:`JavaMappingError` saying why not.

    ``body`` is the evaluated context: ``{java: {class: …, method signature: …}}`` or
    ``{pmml: {document: …, model: …}}``.
    """
    if not isinstance(body, dict):
        raise JavaMappingError("an external function body must be a context with a 'java' or 'pmml' entry")
    if "pmml" in body:
        raise JavaMappingError("PMML externally defined functions are not supported (no PMML runtime)")
    java = body.get("java")
    if not isinstance(java, dict):
        raise JavaMappingError("an external function body needs a 'java' context (class, method signature)")
    cls, signature = java.get("class"), java.get("method signature")
    if not isinstance(cls, str) or not isinstance(signature, str):
        raise JavaMappingError("a java external needs 'class' and 'method signature' strings")
    m = _SIGNATURE.fullmatch(signature)
    if m is None:
        raise JavaMappingError(f"not a Java method signature: {signature!r} (e.g. 'max(double, double)')")
    method = m.group(1)
    kinds = tuple(_normalise(k) for k in m.group(2).split(",") if k.strip())
    impl = _METHODS.get((cls.strip(), method, kinds))
    label = f"{cls.strip()}.{method}({', '.join(kinds)})"
    if impl is None:
        raise JavaMappingError(
            f"Java method {label} is not available: only static methods of java.lang.Math, String, "
            "Integer, Long, Double, Float, Short and Byte are mapped"
        )
    fixed = len(kinds) - 1 if kinds and kinds[-1] == "java.lang.Object..." else len(kinds)
    if len(names) < fixed or (fixed == len(kinds) and len(names) != fixed):
        raise JavaMappingError(f"{label} takes {len(kinds)} parameters, the function declares {len(names)}")
    return ExternalFunction(names, label, kinds, impl)


def compile_external(names: tuple[str, ...], body: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``function(…) external {java: …}``: a mapped Java method, or null saying why not."""

    def make(s: Any) -> Any:
        try:
            return external_function(names, body(s))
        except JavaMappingError as exc:
            s.state.note(str(exc))
            return None

    return make
