"""Hardened XML loading shared by the CMMN and DMN parsers.

Models come from users and from modelers we do not control, so the parser refuses
everything that could make reading a file dangerous: entity expansion (billion
laughs), external entities and DTDs (XXE), network access, and documents larger than
a configurable limit. lxml is used with those features switched off rather than
defusedxml, because we need lxml's source line numbers for error messages.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from casepilot.errors import DefinitionError
from casepilot.settings import load_settings

__all__ = ["MAX_XML_BYTES", "parse_xml"]

MAX_XML_BYTES = load_settings().max_xml_bytes
"""Largest model accepted, in bytes (default 20 MiB; ``CASEPILOT_MAX_XML_BYTES`` overrides, see ``casepilot.settings``)."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(source: str | bytes | Path, *, file: str | None = None, max_bytes: int | None = None) -> etree._Element:
    """Parse ``source`` (a path, or the document's bytes/text) into its root element.

    Raises ``DefinitionError`` naming the file and line for malformed XML, any DOCTYPE
    (entities are never needed in CMMN or DMN), and documents over ``max_bytes``.
    """
    limit = MAX_XML_BYTES if max_bytes is None else max_bytes
    if isinstance(source, Path):
        file = file or str(source)
        try:
            size = source.stat().st_size
        except OSError as exc:
            raise DefinitionError(f"cannot read the file: {exc.strerror}", file=file) from exc
        if size > limit:
            raise DefinitionError(
                f"document is {size} bytes, over the limit of {limit} bytes (set CASEPILOT_MAX_XML_BYTES to raise it)",
                file=file,
            )
        data = source.read_bytes()
    else:
        data = source.encode("utf-8") if isinstance(source, str) else source
        if len(data) > limit:
            raise DefinitionError(
                f"document is {len(data)} bytes, over the limit of {limit} bytes (set CASEPILOT_MAX_XML_BYTES to raise it)",
                file=file,
            )
    if isinstance(source, str) and data.lstrip().startswith(b"<?xml"):
        # lxml refuses str input with an encoding declaration; bytes are fine.
        pass
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise DefinitionError(
            "document declares a DOCTYPE or entities; CMMN and DMN models never need them and they are refused "
            "for safety (XXE, entity expansion)",
            file=file,
            line=_line_of(data, b"<!"),
        )
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) else None
        raise DefinitionError(f"malformed XML: {exc.msg}", file=file, line=line) from exc
    if root is None:
        raise DefinitionError("empty XML document", file=file)
    return root


def _line_of(data: bytes, needle: bytes) -> int | None:
    idx = data.lower().find(needle.lower())
    return None if idx < 0 else data.count(b"\n", 0, idx) + 1
