"""Sentiment (VADER) and extractive summary on real sentences."""

from __future__ import annotations

from casepilot.tools import ToolRegistry
from casepilot.tools.builtin import sentiment_tool, split_sentences, summarise, summarise_tool

LETTER = (
    "On 3 March my car was hit while parked outside our house in Leeds. "
    "The other driver, Mr. J. Smith, admitted fault at the scene and gave me his insurance details. "
    "The rear bumper and the left tail light were destroyed. "
    "A garage estimated the repair at 1,250 EUR, and I attach their quote. "
    "I also had to rent a car for four days while my car was repaired. "
    "Please tell me whether the rental costs are covered by my policy. "
    "The weather that day was sunny. "
    "I would be grateful for a quick settlement of the repair and rental costs."
)


def test_sentiment_of_real_sentences() -> None:
    reg = ToolRegistry([sentiment_tool()])

    def run(text: str) -> tuple[float, str]:
        result = reg.invoke("sentiment", {"text": text}).result
        return result.compound, result.label

    happy = run("I am absolutely delighted with how quickly you settled my claim. Thank you!")
    angry = run("This is the worst service I have ever had; nobody answers and my car is still wrecked.")
    plain = run("The meeting is on Tuesday at ten.")
    assert happy[1] == "positive" and happy[0] > 0.5
    assert angry[1] == "negative" and angry[0] < -0.5
    assert plain == (0.0, "neutral")
    negated = run("The repair was not good.")
    assert negated[1] == "negative"


def test_sentence_splitter_keeps_abbreviations_and_initials() -> None:
    sentences = split_sentences(LETTER)
    assert len(sentences) == 8
    assert sentences[1] == (
        "The other driver, Mr. J. Smith, admitted fault at the scene and gave me his insurance details."
    )
    assert split_sentences("Is it covered? Yes! Thanks.") == ["Is it covered?", "Yes!", "Thanks."]


def test_summary_picks_central_sentences_in_order_and_is_deterministic() -> None:
    reg = ToolRegistry([summarise_tool()])
    result = reg.invoke("summarise", {"text": LETTER, "max_sentences": 3}).result
    assert result.sentence_count == 8 and len(result.sentences) == 3
    assert result.indices == sorted(result.indices)
    assert "The weather that day was sunny." not in result.sentences
    assert any("rent" in s for s in result.sentences) and any("repair" in s for s in result.sentences)
    assert result.summary == " ".join(result.sentences)
    assert summarise(LETTER, 3) == result


def test_short_text_is_returned_whole() -> None:
    assert summarise("One sentence only.", 3).sentences == ["One sentence only."]
