"""Count which CMMN models casepilot parses and why it refuses the others.

``python -m casepilot.cmmn.compat PATH…`` reads every ``.cmmn``/``.xml`` file below each
PATH (a folder is one *source*; a file is its own source) and prints, per source, how many
files parse, how many are refused because of a vendor construct (by construct), and how many
are refused as invalid CMMN. The README's compatibility section quotes this output.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from casepilot.cmmn._parse_vendor import vendor_construct
from casepilot.cmmn.parser import parse_file
from casepilot.errors import DefinitionError

__all__ = ["FileResult", "SourceReport", "check_file", "main", "model_files", "report"]

_SUFFIXES = (".cmmn", ".xml")


@dataclass(frozen=True, slots=True)
class FileResult:
    """The outcome of parsing one file."""

    path: Path
    parsed: bool
    constructs: tuple[str, ...] = ()
    """Vendor constructs named by the refusal, in order of appearance."""
    invalid: tuple[str, ...] = ()
    """Problems that are not vendor refusals (the model is invalid CMMN)."""

    @property
    def reason(self) -> str:
        """One-word outcome: ``parsed``, the first vendor construct, or ``invalid``."""
        if self.parsed:
            return "parsed"
        return self.constructs[0] if self.constructs else "invalid"


@dataclass
class SourceReport:
    """Counts for one source folder."""

    name: str
    results: list[FileResult] = field(default_factory=list)

    @property
    def parsed(self) -> int:
        return sum(r.parsed for r in self.results)

    @property
    def refused_vendor(self) -> int:
        return sum(bool(not r.parsed and r.constructs) for r in self.results)

    @property
    def refused_invalid(self) -> int:
        return sum(bool(not r.parsed and not r.constructs) for r in self.results)

    def by_construct(self) -> Counter[str]:
        """Refused files per vendor construct (a file using several counts under each)."""
        counts: Counter[str] = Counter()
        for r in self.results:
            counts.update(set(r.constructs))
        return counts


def model_files(root: Path) -> list[Path]:
    """The CMMN model files below ``root`` (or ``root`` itself), sorted."""
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in _SUFFIXES)


def check_file(path: Path, *, strict_extensions: bool = True) -> FileResult:
    """Parse ``path`` and classify the outcome."""
    try:
        parse_file(path, strict_extensions=strict_extensions)
    except DefinitionError as exc:
        constructs: list[str] = []
        invalid: list[str] = []
        for problem in exc.problems or [exc]:
            construct = vendor_construct(problem.message)
            if construct is None:
                invalid.append(str(problem))
            elif construct not in constructs:
                constructs.append(construct)
        return FileResult(path, False, tuple(constructs), tuple(invalid))
    return FileResult(path, True)


def report(paths: Iterable[Path], *, strict_extensions: bool = True) -> list[SourceReport]:
    """One ``SourceReport`` per path."""
    out: list[SourceReport] = []
    for root in paths:
        name = root.parent.name if root.name == "models" else root.name
        rep = SourceReport(name)
        rep.results.extend(check_file(p, strict_extensions=strict_extensions) for p in model_files(root))
        out.append(rep)
    return out


def _print(reports: Sequence[SourceReport], verbose: bool) -> None:
    total = Counter[str]()
    for rep in reports:
        n = len(rep.results)
        print(f"{rep.name}: {n} files, {rep.parsed} parsed, {rep.refused_vendor} refused (vendor construct), "
              f"{rep.refused_invalid} refused (invalid CMMN)")
        for construct, count in sorted(rep.by_construct().items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {count:5d}  {construct}")
        for r in rep.results:
            if not r.parsed and (verbose or not r.constructs):
                detail = "; ".join(r.invalid) if not r.constructs else ", ".join(r.constructs)
                print(f"  refused {r.path}: {detail}")
        total.update(files=n, parsed=rep.parsed, vendor=rep.refused_vendor, invalid=rep.refused_invalid)
    if len(reports) > 1:
        print(f"total: {total['files']} files, {total['parsed']} parsed, {total['vendor']} refused (vendor construct), "
              f"{total['invalid']} refused (invalid CMMN)")


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; exit code 1 when a model is refused as invalid CMMN."""
    parser = argparse.ArgumentParser(prog="python -m casepilot.cmmn.compat", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="model folders or files")
    parser.add_argument("--lenient", action="store_true", help="keep behaviour-changing vendor extensions")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every refused file")
    args = parser.parse_args(argv)
    reports = report(args.paths, strict_extensions=not args.lenient)
    _print(reports, args.verbose)
    return 1 if any(r.refused_invalid for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
