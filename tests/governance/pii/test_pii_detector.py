"""What the detector finds — formats, checksums, names, places — and that it stays offline."""

from __future__ import annotations

import itertools
import socket
from typing import Any

import pytest

from casepilot.governance.pii import PiiDetector
from casepilot.governance.pii._recognizers import offline_tld_extractor


def found(detector: PiiDetector, text: str) -> list[tuple[str, str]]:
    return [(e.entity_type, text[e.start : e.end]) for e in detector.analyze(text)]


@pytest.mark.parametrize(
    "iban",
    [
        "GB56HXDO88167774656119",
        "gb42nawi04454264788619",  # lower case
        "DE89 3704 0044 0532 0130 00",  # grouped
        "NO9386011117947",  # shortest registry format
        "MT84MALT011000012345MTLCAST001S",  # long, alphanumeric
        "LC55HEMM000100010012001200023015",  # a country Presidio's table lacks
    ],
)
def test_iban_of_any_country(detector: PiiDetector, iban: str) -> None:
    assert found(detector, f"Please wire it to {iban} today.") == [("IBAN_CODE", iban)]


def test_iban_with_bad_checksum_is_not_an_iban(detector: PiiDetector) -> None:
    assert ("IBAN_CODE", "GB57HXDO88167774656119") not in found(detector, "ref GB57HXDO88167774656119")


@pytest.mark.parametrize(
    "card",
    ["4111 1111 1111 1111", "2221000000000009", "213176828496175", "630427373398", "4131034282458809939"],
)
def test_cards_of_all_schemes_with_luhn(detector: PiiDetector, card: str) -> None:
    assert ("CREDIT_CARD", card) in found(detector, f"My card {card} expired.")


def test_luhn_failure_is_no_card(detector: PiiDetector) -> None:
    assert not [t for t, _ in found(detector, "Order 4111111111111112 shipped") if t == "CREDIT_CARD"]


def test_international_number_is_a_phone_even_if_luhn_valid(detector: PiiDetector) -> None:
    assert found(detector, "reach me on +447700677662 mobile") == [("PHONE_NUMBER", "+447700677662")]


@pytest.mark.parametrize(
    "text, phone",
    [
        ("Desk: +41 (0)96 471 07 95", "+41 (0)96 471 07 95"),
        ("Mobile: 03.93.92.16.85", "03.93.92.16.85"),
        ("Phone: 0490 75 40 81", "0490 75 40 81"),
        ("Can someone call me on 9472 7916?", "9472 7916"),
        ("(37) 788-063-Office", "(37) 788-063"),
        ("Fax: 9498777106", "9498777106"),
        ("They're not answering at 780-999-2181", "780-999-2181"),
    ],
)
def test_phone_formats(detector: PiiDetector, text: str, phone: str) -> None:
    assert ("PHONE_NUMBER", phone) in found(detector, text)


@pytest.mark.parametrize(
    "text", ["We shipped 1200 units in 2019 to 45 stores.", "Order 123 456 789 shipped", "Claim 2024 123 456 is open"]
)
def test_reference_numbers_are_not_phones(detector: PiiDetector, text: str) -> None:
    assert not [t for t, _ in found(detector, text) if t == "PHONE_NUMBER"]


@pytest.mark.parametrize(
    "text, phone",
    [("Ring 0490 75 40 81", "0490 75 40 81"), ("Ring (02) 9876 5432", "(02) 9876 5432"), ("Ring 212-555-0199", "212-555-0199")],
)
def test_unmistakable_phone_layouts_need_no_context(detector: PiiDetector, text: str, phone: str) -> None:
    assert found(detector, text) == [("PHONE_NUMBER", phone)]


def test_email_ip_url_ssn(detector: PiiDetector) -> None:
    text = "Mail JonasZadina@armyspy.com from 86.121.97.248, see https://www.UEarly.se/ ; SSN 460-89-9847"
    assert found(detector, text) == [
        ("EMAIL_ADDRESS", "JonasZadina@armyspy.com"),
        ("IP_ADDRESS", "86.121.97.248"),
        ("URL", "https://www.UEarly.se/"),
        ("US_SSN", "460-89-9847"),
    ]


def test_email_check_never_touches_the_network(monkeypatch: pytest.MonkeyPatch, detector: PiiDetector) -> None:
    lookups: list[Any] = []

    def no_dns(*args: Any, **kwargs: Any) -> Any:
        lookups.append(args)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    offline_tld_extractor.cache_clear()
    assert found(detector, "write to anna.berg@example.co.uk") == [("EMAIL_ADDRESS", "anna.berg@example.co.uk")]
    assert lookups == []


@pytest.mark.parametrize(
    "text, name",
    [
        ("they were singing verses from Faina D. Yefremova's Cautionary Tales", "Faina D. Yefremova"),
        ("My name is Rubija", "Rubija"),
        ("Name: Toshimi Arata", "Toshimi Arata"),
        ("follow up with patricia desrosiers in a couple of months", "patricia desrosiers"),
        ("Willemine ten Pas will be talking", "Willemine ten Pas"),
        ("For my take on Mrs. Lennox, see the list", "Lennox"),
        ("Wisława Szczepańska's killers were sentenced", "Wisława Szczepańska"),
        ("Tomomi Nishiyama lives at 86036 Rua do Arenque", "Tomomi Nishiyama"),
        ("sometimes people call me višeslav", "višeslav"),
        ("What's your last name? Turgeon", "Turgeon"),
        ('Koppány: "Who are you?"\nElizabeth:"I\'m Amanda\'s daughter".', "Elizabeth"),
    ],
)
def test_person_names(detector: PiiDetector, text: str, name: str) -> None:
    people = [v for t, v in found(detector, text) if t == "PERSON"]
    assert any(v in (name, name + "'s") for v in people), people


def test_names_spread_to_enumerations_and_repeated_mentions(detector: PiiDetector) -> None:
    text = "It is the brainchild of our 3 founders: Eklund, Michael and Hodge. Ask Hodge."
    people = [v for t, v in found(detector, text) if t == "PERSON"]
    assert people == ["Eklund", "Michael", "Hodge", "Hodge"]


@pytest.mark.parametrize(
    "text",
    [
        "Please call the bank in May. Thanks, Support Team",
        "My name is on the account",
        "My name appears incorrectly on the card",
        "Please call me when you are here.",
        "She named him after the river.",
    ],
)
def test_common_words_are_not_names(detector: PiiDetector, text: str) -> None:
    assert not [v for t, v in found(detector, text) if t == "PERSON"]


def test_address_block_towns_and_countries(detector: PiiDetector) -> None:
    text = "41086 Kiannonkatu 98\n Suite 464\n OULU\n\n Finland 80896"
    places = [v for t, v in found(detector, text) if t == "LOCATION"]
    assert places == ["OULU", "Finland"]


def test_only_specific_dates(detector: PiiDetector) -> None:
    text = "I was born on 2/8/1935 and quit a few months ago, on a Saturday."
    dates = [v for t, v in found(detector, text) if t == "DATE_TIME"]
    assert "2/8/1935" in dates and "a few months ago" not in dates


def test_spans_are_disjoint_and_ordered(detector: PiiDetector) -> None:
    text = "John Smith, +46 (0)8 928 571 38, john.smith@example.se, GB56HXDO88167774656119"
    spans = detector.analyze(text)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))


def test_batch_equals_single(detector: PiiDetector) -> None:
    texts = ["Call Anna Berg at 0490 75 40 81", "", "Nothing personal here.", "Visit Oslo with Ole Hansen"]
    assert detector.analyze_batch(texts) == [detector.analyze(t) for t in texts]


def test_entity_filter() -> None:
    only_mail = PiiDetector(entities=["EMAIL_ADDRESS"])
    assert [e.entity_type for e in only_mail.analyze("Anna Berg, anna@example.org")] == ["EMAIL_ADDRESS"]


def test_context_words_lift_weak_patterns_over_ner(detector: PiiDetector) -> None:
    assert found(detector, "My SSN is 460899847 thanks") == [("US_SSN", "460899847")]
    assert not [t for t, _ in found(detector, "order 460899847 shipped") if t == "US_SSN"]


@pytest.mark.parametrize(
    "text, group",
    [
        ("We are proud saudis", "saudis"),
        ("I am bruneian but I live in Austria.", "bruneian"),
        ("There's this nice new German place downtown.", "German"),
        ("The Costa Rican team won.", "Costa Rican"),
    ],
)
def test_nationalities_and_groups(detector: PiiDetector, text: str, group: str) -> None:
    assert ("NRP", group) in found(detector, text)


def test_a_country_is_not_a_group(detector: PiiDetector) -> None:
    assert ("LOCATION", "Czech Republic") in found(detector, "I will be travelling to Czech Republic next week")


def test_lower_case_political_words_are_not_groups(detector: PiiDetector) -> None:
    assert not [t for t, _ in found(detector, "that is a liberal estimate of the damage") if t == "NRP"]


def test_driving_licence_needs_its_phrase(detector: PiiDetector) -> None:
    assert found(detector, "my driver's license number is 2270-66-1551") == [("US_DRIVER_LICENSE", "2270-66-1551")]
    assert not [t for t, _ in found(detector, "ticket 2270-66-1551 closed") if t == "US_DRIVER_LICENSE"]


@pytest.mark.parametrize(
    "text, place",
    [
        ("I'm Annemette Iversen, originally from Eckenroth, and i'm 54 y/o.", "Eckenroth"),
        ("Ms. Margarot flew to Loeches on Saturday morning.", "Loeches"),
        ("studying at the University of VIERHÖF.", "VIERHÖF"),
        ("on Tuesday at Locavore, 641 Dašická 688, Turkovice u Prelouce", "Turkovice u Prelouce"),
        ("at Recargo, 73111 31 Seneca Place, Marshland", "Marshland"),
        ("Avenida Otoniel Dutra 1277\n Suite 829\n Salvador\n Brazil 10988", "Salvador"),
    ],
)
def test_places_from_cues_and_layout(detector: PiiDetector, text: str, place: str) -> None:
    assert ("LOCATION", place) in found(detector, text)


def test_ordinary_business_text_stays_mostly_clear(detector: PiiDetector) -> None:
    text = (
        "Coverage under Section 4 excludes Flood damage. The Insured must provide the Repair "
        "Estimate within 30 days. Reference number 4821-7730 applies."
    )
    kinds = {t for t, _ in found(detector, text)}
    assert not kinds & {"PERSON", "PHONE_NUMBER"}
    assert ("DATE_TIME", "30 days") not in found(detector, text)


def test_long_texts_are_analysed_in_pieces(detector: PiiDetector) -> None:
    from casepilot.governance.pii.detector import MAX_CHUNK

    filler = "The policy covers water damage in the kitchen. " * (MAX_CHUNK // 24)
    text = filler + "Contact Anna Berg at anna.berg@example.se today. " + filler + "IBAN GB56HXDO88167774656119"
    assert len(text) > 2 * MAX_CHUNK
    spans = found(detector, text)
    assert ("EMAIL_ADDRESS", "anna.berg@example.se") in spans
    assert ("PERSON", "Anna Berg") in spans
    assert spans[-1] == ("IBAN_CODE", "GB56HXDO88167774656119")


@pytest.mark.parametrize(
    "text, name",
    [
        ("Customer Robert Green asked to move funds.", "Robert Green"),
        ("Please refund Daan van der Leek today.", "Daan van der Leek"),
        ("Contact: Dr. Marie-Claire Dubois-Lefèvre", "Marie-Claire Dubois-Lefèvre"),
    ],
)
def test_surnames_that_are_words_and_particle_chains(detector: PiiDetector, text: str, name: str) -> None:
    assert ("PERSON", name) in found(detector, text)


def test_languages_and_institutions_are_not_groups(detector: PiiDetector) -> None:
    text = "She was studying English under the Treaty on European Union."
    assert not [v for t, v in found(detector, text) if t == "NRP" and v in {"English", "European"}]
