"""Load CMMN 1.1 XML (and CMMN 1.0, mapped onto 1.1) into frozen ``Definitions``.

Reading is hardened (``casepilot._xml.parse_xml``: no DTD, entities or network, a size
limit), every element keeps its file and line, and the whole model is validated before it
is returned: one ``DefinitionError`` lists every problem found — structure, dangling
references, standard events, conditions that do not compile, timer expressions, and vendor
extensions that would change behaviour (see ``casepilot.cmmn._parse_vendor``).

Example::

    from casepilot.cmmn import parse_file
    defs = parse_file("claims.cmmn")
    case = defs.case()
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from lxml import etree

from casepilot._xml import MAX_XML_BYTES, parse_xml
from casepilot.cmmn._normalise import inline_criterion_sentries
from casepilot.cmmn._parse_base import MODEL_NAMESPACES, ParseContext, line_of
from casepilot.cmmn._parse_case import parse_definitions
from casepilot.cmmn.definitions import Definitions
from casepilot.cmmn.validate import validate
from casepilot.errors import DefinitionError

__all__ = ["parse_bytes", "parse_file"]


def parse_file(path: str | Path, *, strict_extensions: bool = True, max_bytes: int | None = None) -> Definitions:
    """Parse the CMMN file at ``path``.

    ``strict_extensions`` (default) refuses vendor extensions that change behaviour; with
    ``False`` they are kept as ignored extensions (for tooling that only reads models).
    Raises ``DefinitionError`` (with ``problems``) when the model is hostile, malformed,
    unsupported or invalid.
    """
    p = Path(path)
    limit = MAX_XML_BYTES if max_bytes is None else max_bytes
    try:
        size = p.stat().st_size
        if size > limit:  # refuse before reading a huge file into memory
            parse_xml(p, file=str(path), max_bytes=limit)
        raw = p.read_bytes()
    except OSError as exc:
        raise DefinitionError(f"cannot read the file: {exc.strerror}", file=str(path)) from exc
    return _build(parse_xml(raw, file=str(path), max_bytes=limit), raw, str(path), strict_extensions)


def parse_bytes(
    data: bytes | str, file: str | None = None, *, strict_extensions: bool = True, max_bytes: int | None = None
) -> Definitions:
    """Parse a CMMN document given as bytes (or text); ``file`` names it in error messages."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    root = parse_xml(raw, file=file, max_bytes=max_bytes)
    return _build(root, raw, file, strict_extensions)


def _build(root: etree._Element, raw: bytes, file: str | None, strict_extensions: bool) -> Definitions:
    qn = etree.QName(root)
    if qn.localname != "definitions" or qn.namespace not in MODEL_NAMESPACES:
        raise DefinitionError(
            f"not a CMMN model: the root element is {root.tag!s}, expected <definitions> in the CMMN 1.1 "
            f"namespace {MODEL_NAMESPACES[0]} (or CMMN 1.0, {MODEL_NAMESPACES[1]})",
            file=file,
            line=line_of(root),
            element=qn.localname,
        )
    inline_criterion_sentries(root, qn.namespace or "")
    ctx = ParseContext(file=file, ns=qn.namespace or "", strict_extensions=strict_extensions)
    definitions = parse_definitions(ctx, root, hashlib.sha256(raw).hexdigest())
    validate(definitions, ctx)
    if ctx.problems:
        raise _combined(ctx.problems, file)
    return definitions


def _combined(problems: list[DefinitionError], file: str | None) -> DefinitionError:
    problems = sorted(problems, key=lambda p: (p.line or 0))
    first = problems[0]
    if len(problems) == 1:
        return DefinitionError(first.message, file=file, line=first.line, element=first.element, problems=problems)
    return DefinitionError(
        f"{len(problems)} problems in the CMMN model (first: {first.message})",
        file=file,
        line=first.line,
        element=first.element,
        problems=problems,
    )
