"""Text holding lone UTF-16 surrogates (no Unicode characters: ``"\\ud800"``) is read, not a
crash (issue 15): the detector reads each as U+FFFD, one character for one, so its spans
stand where they do in the text given; redaction hands back text holding U+FFFD instead,
and says how many it replaced."""

from __future__ import annotations

from casepilot.governance.pii import InMemoryVault, PiiDetector, Pseudonymizer
from casepilot.governance.pii.detector import as_unicode, surrogates_in

BROKEN = "Anna Berg\ud800 wrote from anna.berg@example.com about the \udfff claim."
REPAIRED = "Anna Berg\ufffd wrote from anna.berg@example.com about the \ufffd claim."


def test_as_unicode_keeps_length_and_everything_else() -> None:
    assert as_unicode(BROKEN) == REPAIRED
    assert as_unicode("\ud83d\ude00") == "\ufffd\ufffd"  # a pair split into two code points is two lone halves
    assert as_unicode("plain 😀 text") == "plain 😀 text"
    assert (surrogates_in(BROKEN), surrogates_in(REPAIRED)) == (2, 0)


def test_the_detector_finds_the_same_spans_as_in_the_repaired_text(detector: PiiDetector) -> None:
    found = detector.analyze(BROKEN)

    assert found == detector.analyze(REPAIRED)
    assert [(e.entity_type, BROKEN[e.start:e.end]) for e in found] == [
        ("PERSON", "Anna Berg"), ("EMAIL_ADDRESS", "anna.berg@example.com")]
    assert detector.analyze_batch(["\ud800", BROKEN, "\udfff alone"]) == [[], found, []]


def test_redaction_returns_unicode_and_counts_the_repairs(detector: PiiDetector) -> None:
    pseudo = Pseudonymizer(InMemoryVault(), detector=detector, policy={"officer"})

    result = pseudo.redact_text(BROKEN, "case-1")

    assert result.text == "<PERSON_1>\ufffd wrote from <EMAIL_ADDRESS_1> about the \ufffd claim."
    assert result.repaired == 2
    assert result.text.encode("utf-8")  # storable: no surrogate left
    assert pseudo.reveal(result.text, "case-1", {"officer"}, actor="o").text == REPAIRED
    clean = pseudo.redact_text("no surrogate here", "case-1")
    assert (clean.text, clean.repaired) == ("no surrogate here", 0)


def test_payload_redaction_repairs_every_string(detector: PiiDetector) -> None:
    pseudo = Pseudonymizer(InMemoryVault(), detector=detector)

    result = pseudo.redact_payload({"letter": BROKEN, "notes": ["x\ud800y", "fine"], "n": 3}, "case-2")

    assert result.value == {"letter": "<PERSON_1>\ufffd wrote from <EMAIL_ADDRESS_1> about the \ufffd claim.",
                            "notes": ["x\ufffdy", "fine"], "n": 3}
    assert result.repaired == 3
    assert dict(result.entities) == {"PERSON": 1, "EMAIL_ADDRESS": 1}


def test_numbers_too_long_to_be_identifiers_are_left_alone(detector: PiiDetector) -> None:
    pseudo = Pseudonymizer(InMemoryVault(), detector=detector)
    huge = 10**5000  # more digits than Python will print by default

    result = pseudo.redact_payload({"n": huge, "card": 4111111111111111}, "case-3")

    assert result.value == {"n": huge, "card": "<CREDIT_CARD_1>"}
