"""Where the third-party conformance material lives: ``$CASEPILOT_CORPORA``, else the copy
vendored in ``tests/corpora`` (see its README for sources and licences)."""

from __future__ import annotations

import os
from pathlib import Path

CORPORA = Path(os.environ.get("CASEPILOT_CORPORA") or Path(__file__).resolve().parent / "corpora")
CMMN = CORPORA / "cmmn"
DMN_TCK = CORPORA / "dmn-tck"
PII = CORPORA / "pii"
CRANFIELD = CORPORA / "rag" / "cranfield"

if not CORPORA.is_dir():
    raise RuntimeError(f"conformance material not found at {CORPORA}; set CASEPILOT_CORPORA to its folder")
