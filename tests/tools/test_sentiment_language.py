"""VADER's lexicon is English: text in another language is left out, not misread (issue 15).

The German article "die" is "die" to VADER (-0.6), so every German letter scored angry.
Sentences the language model places in another language are not scored; a text with no
English sentence is neutral with ``scored`` false; English — even short English the model
cannot place — scores as before."""

from __future__ import annotations

import pytest

from casepilot.demo.run import LETTERS
from casepilot.tools import ToolRegistry
from casepilot.tools.builtin import sentiment_tool
from casepilot.tools.builtin.sentiment import SentimentResult, _analyzer, score

GERMAN = ("Sehr geehrte Damen und Herren, die Werkstatt sagt, die Stoßstange muss ersetzt werden. "
          "Die Reparatur kostet 800 EUR. Mit freundlichen Grüßen, Anna Berg")


def _vader(text: str) -> float:
    return float(_analyzer().polarity_scores(text)["compound"])


def test_a_german_letter_is_not_angry() -> None:
    assert _vader(GERMAN) < -0.5  # what VADER alone makes of it: "die" three times

    result = score(GERMAN)

    assert (result.label, result.compound, result.scored) == ("neutral", 0.0, False)
    assert (result.language, result.unscored) == ("de", 3)


@pytest.mark.parametrize(("text", "language"), [
    ("Die Reparatur kostet 800 EUR.", "de"),
    ("Je suis furieux, personne ne répond à mes appels.", "fr"),
    ("La reparación cuesta 800 euros, gracias.", "es"),
])
def test_short_letters_in_other_languages_are_not_scored(text: str, language: str) -> None:
    result = score(text)
    assert (result.scored, result.label, result.language) == (False, "neutral", language)


@pytest.mark.parametrize("text", [*LETTERS.values(), "Bad service.", "Worst insurer ever.", "Thanks!",
                                  "The repair was not good."])
def test_english_scores_as_vader_does(text: str) -> None:
    result = score(text)
    assert (result.compound, result.scored, result.language, result.unscored) == (_vader(text), True, "en", 0)


def test_in_a_mixed_letter_only_the_english_sentences_count() -> None:
    english = "Nobody answers my calls and I am furious."
    result = score(f"{english} Die Werkstatt sagt, die Stoßstange muss ersetzt werden.")
    assert result.compound == _vader(english) and result.label == "negative"
    assert (result.scored, result.unscored) == (True, 1)


def test_the_tool_reports_it() -> None:
    outcome = ToolRegistry([sentiment_tool()]).invoke("sentiment", {"text": GERMAN})
    assert isinstance(outcome.result, SentimentResult) and outcome.result.scored is False
