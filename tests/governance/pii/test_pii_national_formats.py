"""National phone layouts and compound names, as they arrive in the letters of a European claims desk.

Phones: bare digits with a trunk "0" ("07314277224", "0265969390"), national layouts of
the UK, the Netherlands, Germany, France, Italy, Spain and the US, and international
forms — each found with no word around it that says "phone"; and what must stay a
number: amounts, dates, IBANs, card numbers, policy and claim numbers.

Names: hyphenated and compound names and names with particles, found whole — a part of
a name left in clear beside a pseudonym is a leak.
"""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerResult

from casepilot.governance.pii import InMemoryVault, PiiDetector, Pseudonymizer
from casepilot.governance.pii._lexicon import lexicon
from casepilot.governance.pii._person import PersonNameRecognizer
from casepilot.governance.pii.detector import resolve_overlaps


def found(detector: PiiDetector, text: str) -> list[tuple[str, str]]:
    return [(e.entity_type, text[e.start : e.end]) for e in detector.analyze(text)]


def phones(detector: PiiDetector, text: str) -> list[str]:
    return [v for t, v in found(detector, text) if t == "PHONE_NUMBER"]


def people(detector: PiiDetector, text: str) -> list[str]:
    return [v for t, v in found(detector, text) if t == "PERSON"]


# -- phones ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "07314277224",  # UK mobile, bare
        "07314 277224",  # UK mobile, national layout
        "01632 960123",  # UK landline
        "(020) 7946 0123",  # UK London, area code in parentheses
        "(022) 90386",  # IE, eight digits behind an area code in parentheses
        "0265969390",  # NL landline, bare
        "06-12345678",  # NL mobile, one dash
        "026 596 9390",  # NL landline, national layout
        "030 12345678",  # DE Berlin
        "0151 23456789",  # DE mobile
        "030515904",  # DE, short subscriber number, bare
        "06 12 34 56 78",  # FR mobile
        "0612345678",  # FR mobile, bare
        "01.23.45.67.89",  # FR landline, dotted
        "02 1234 5678",  # IT Milan
        "0184913900",  # IT landline, bare
        "333 123 4567",  # IT mobile
        "333 1234567",  # IT mobile, as Italians write it
        "612 34 56 78",  # ES mobile
        "(212) 555-0199",  # US
        "212.555.0199",  # US, dotted
        "1-212-555-0199",  # US with the country code
        "+44 7314 277224",  # international
        "+31 26 596 9390",
        "+49 (0)30 1234567",
        "0044 7314 277224",  # international with 00
        "+33612345678",  # E.164
    ],
)
def test_national_and_international_layouts_need_no_phone_word(detector: PiiDetector, phone: str) -> None:
    for text in (f"Kind regards,\nAnna Berg\n{phone}\n", f"Anna Berg, {phone}, anna@example.org"):
        assert phones(detector, text) == [phone], text


@pytest.mark.parametrize("phone", ["612345678", "3331234567", "2125550199"])
def test_bare_numbers_without_trunk_zero_need_a_phone_word(detector: PiiDetector, phone: str) -> None:
    # Bare and unlabelled, nine or ten digits are as likely a customer number.
    assert phones(detector, f"Anna Berg, {phone}") == []
    assert phones(detector, f"My number is {phone}.") == [phone]
    assert phones(detector, f"Call me on {phone}.") == [phone]


@pytest.mark.parametrize(
    "text",
    [
        "The repair costs EUR 612 345 678 in total.",  # an amount in a plan-valid grouping
        "We counted 714 448 305 votes.",  # thousands grouping
        "Invoice total 375 585 427,00 € due.",
        "The garage quotes 1.250.000 for the fleet.",
        "Paid 0612345678 EUR by transfer.",  # currency after the digits
        "Policy 0265969390 covers the car.",  # a reference label before the digits
        "claim no. 0123456789 is open",
        "Invoice #0612345678 was paid.",
        "Reference: 07314277224",
        "Paid on 12.05.2024 and on 01022024.",  # dates (eight bare digits)
        "Order 2024 123 456 shipped on 2024-05-12.",
    ],
)
def test_amounts_dates_and_references_are_not_phones(detector: PiiDetector, text: str) -> None:
    assert phones(detector, text) == []


def test_iban_and_card_digits_stay_an_iban_and_a_card(detector: PiiDetector) -> None:
    text = "Pay NL91 ABNA 0417 1643 00 or charge card 4111 1111 1111 1111, or GB33BUKB20201555555555."
    assert found(detector, text) == [
        ("IBAN_CODE", "NL91 ABNA 0417 1643 00"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("IBAN_CODE", "GB33BUKB20201555555555"),
    ]


def test_a_phone_word_still_wins_over_a_later_label(detector: PiiDetector) -> None:
    # The label must stand right before the digits: a phone with the word "policy" further back is a phone.
    assert phones(detector, "About my policy: please call me on 0265969390 tomorrow") == ["0265969390"]


def test_one_bare_number_written_two_ways_is_one_pseudonym(detector: PiiDetector) -> None:
    pseudo = Pseudonymizer(InMemoryVault(), detector=detector)
    first = pseudo.redact_text("Ring 07314277224 today", "c1").text
    second = pseudo.redact_text("or 07314 277224 after six", "c1").text
    assert first == "Ring <PHONE_NUMBER_1> today"
    assert second == "or <PHONE_NUMBER_1> after six"


# -- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, name",
    [
        ("I am Jansen-van Ooyen and my car was hit.", "Jansen-van Ooyen"),
        ("Kind regards,\nPieter Jansen-van Ooyen\n", "Pieter Jansen-van Ooyen"),
        ("Regards, Marie-Claire Dubois", "Marie-Claire Dubois"),
        ("From: Tom Smith-Jones", "Tom Smith-Jones"),
        ("The driver, Daan van der Leek, admitted fault.", "Daan van der Leek"),
        ("My name is Ana de la Cruz.", "Ana de la Cruz"),
        ("Contact Ludwig von Beethoven today.", "Ludwig von Beethoven"),
        ("My name is Giulia di Stefano.", "Giulia di Stefano"),
        ("The driver, Lucia da Silva, admitted fault.", "Lucia da Silva"),
        ("Yesterday Mr du Chartier reversed into my car.", "du Chartier"),
        ("The driver, Olivier le Salmon, admitted fault.", "Olivier le Salmon"),
        ("Her name is Ilse ter Horst.", "Ilse ter Horst"),
        ("The driver, Wim ten Brink, admitted fault.", "Wim ten Brink"),
        ("Ahmed bin Rashid al-Maktoum wrote in.", "Ahmed bin Rashid al-Maktoum"),
        ("The other driver was van der Arent. His insurer paid.", "van der Arent"),
        ("Signed Sean O'Brien, Dublin", "Sean O'Brien"),
        ("Yesterday Mr McEdwards reversed into my car.", "McEdwards"),
        ("Yesterday Mr North-Hobbs reversed into my car.", "North-Hobbs"),
        ("The driver, Josephine Willemsen-ter Scherms, admitted fault.", "Josephine Willemsen-ter Scherms"),
        ("From: Mathilde Langern-von der Stiffel\nSubject: my claim", "Mathilde Langern-von der Stiffel"),
        ("On behalf of Agathe Roche-de la Salle, I write.", "Agathe Roche-de la Salle"),
    ],
)
def test_compound_and_particle_names_are_found_whole(detector: PiiDetector, text: str, name: str) -> None:
    assert name in people(detector, text), found(detector, text)


def test_later_mentions_are_whole_too(detector: PiiDetector) -> None:
    text = (
        "Hello, I write on behalf of Charlotte White-McWard. White-McWard was hit by a van. "
        "Lauren Hostaden-van der Mulder saw it. Hostaden-van der Mulder was hit as well."
    )
    assert people(detector, text) == [
        "Charlotte White-McWard", "White-McWard", "Lauren Hostaden-van der Mulder", "Hostaden-van der Mulder"
    ]


def test_a_name_that_is_also_a_group_word_stays_one_name(detector: PiiDetector) -> None:
    text = "Dear claims team, I am Christian Röhricht.\nKind regards,\nChristian Röhricht"
    assert found(detector, text) == [("PERSON", "Christian Röhricht"), ("PERSON", "Christian Röhricht")]


@pytest.mark.parametrize("name", ["Elena Fleche-ten Arent", "Theres Segebahn-Briemer"])
def test_names_spacy_cuts_as_contractions_are_whole(detector: PiiDetector, name: str) -> None:
    # spaCy reads "Arent" as "are" + "nt" and "Theres" as "there" + "s".
    assert people(detector, f"Sincerely,\n{name}\n") == [name]


def name_recognizer(detector: PiiDetector, text: str) -> list[str]:
    """What the name recognizer alone finds (the NER model has its own ideas about vans)."""
    artifacts = detector._engine._doc_to_nlp_artifact(detector._nlp.make_doc(text), "en")
    return [text[r.start : r.end] for r in PersonNameRecognizer().analyze(text, ["PERSON"], artifacts)]


@pytest.mark.parametrize(
    "text, names",
    [
        ("He parked the van Anna Berg lent him.", ["Anna Berg"]),
        ("He asked Anna van Berg for help.", ["Anna van Berg"]),
        ("Please contact zu Henschel directly.", ["zu Henschel"]),
        ("We met at 33 avenue de Provence.", []),
        ("Timotea lives on Via dei Fiorentini 17.", ["Timotea"]),
        ("The other driver was al-Mitchell.", ["al-Mitchell"]),
    ],
)
def test_particles_join_a_name_but_not_after_an_article_or_a_street_word(
    detector: PiiDetector, text: str, names: list[str]
) -> None:
    assert name_recognizer(detector, text) == names


def test_gaelic_prefixes_make_a_surname_of_a_listed_name() -> None:
    lex = lexicon()
    assert lex.is_last("O'Walsh") and lex.is_last("McWard") and lex.is_last("MacBailey")
    assert not lex.is_last("Machado") or lex.is_last("machado")  # "Mac" + lower case is no prefix
    assert not lex.is_last("McSmall")  # "Small" is a common word


def test_a_name_losing_to_another_finding_keeps_its_rest() -> None:
    text = "Lauren Hostaden-van der Mulder was hit"
    name = RecognizerResult("PERSON", 0, 30, 0.8)
    town = RecognizerResult("LOCATION", 7, 15, 0.85)  # a model's guess that "Hostaden" is a town
    spans = resolve_overlaps([name, town], text)
    assert [(e.entity_type, text[e.start : e.end]) for e in spans] == [
        ("PERSON", "Lauren"), ("LOCATION", "Hostaden"), ("PERSON", "van der Mulder")
    ]
    # without the text the old rule holds: the loser is dropped
    assert [e.entity_type for e in resolve_overlaps([name, town])] == ["LOCATION"]


def test_a_name_overlapping_a_name_becomes_one_span() -> None:
    text = "Pieter Jansen-van Ooyen wrote"
    ours = RecognizerResult("PERSON", 0, 13, 0.9)  # "Pieter Jansen"
    model = RecognizerResult("PERSON", 7, 23, 0.85)  # "Jansen-van Ooyen"
    spans = resolve_overlaps([ours, model], text)
    assert [(e.entity_type, text[e.start : e.end], e.score) for e in spans] == [
        ("PERSON", "Pieter Jansen-van Ooyen", 0.9)
    ]


def test_a_title_or_common_word_is_no_rest_of_a_name() -> None:
    text = "Signed Sean O'Brien today"
    spans = resolve_overlaps(
        [RecognizerResult("PERSON", 7, 19, 0.9), RecognizerResult("PERSON", 0, 19, 0.85)], text
    )
    assert [text[e.start : e.end] for e in spans] == ["Sean O'Brien"]
