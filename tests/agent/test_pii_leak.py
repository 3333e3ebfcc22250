"""No personal data in clear anywhere the agent writes or sends: 50 generated claim letters.

Each letter is the starting letter of a case of the bundled claims example, worked by the
real :class:`~casepilot.agent.orchestrator.Orchestrator` with the real ``LLMPlanner`` against
a local OpenAI-protocol server that records every request. The letters are generated with
Faker (fixed seed, seven locales) and hold what a claims desk receives: names (compound,
hyphenated, with particles: "Jansen-van Ooyen", "Marie-Claire Dubois", "Ahmed al-Rashid"),
e-mail addresses, phone numbers in several layouts (international, national, grouped and
bare digits: "07314277224", "0265969390"), IBANs and card numbers.

Unhappy letters send the claim to the senior analyst's review task. Every fifth letter
also starts a case of a small bundle of the test's own, where an in-process tool copies
the letter into the case file (its clear output must be pseudonymised when recorded) and
a guardrail stops the payment to the letter's IBAN at a governance checkpoint. People
decide both kinds of inbox item through ``Orchestrator.decide`` with a comment that
quotes the customer's data in clear, as people do.

Then every place the process wrote or sent must hold none of the raw values — each name
as written, each of its parts of three or more letters that is not a common word, each
e-mail, phone (as written and as bare digits), IBAN and card number (as written and
compact):

* every request body the model server received;
* every history event payload;
* the stored case state (and every row of every table of the store's SQLite file, apart
  from the encrypted vault);
* the LangGraph checkpoints, both through the checkpointer's API and as the raw rows and
  blobs of its SQLite file;
* the inbox: the decided items' comments are stored pseudonymised.

Phone numbers are valid numbers of their country's plan (as real ones are). National
numbers without a trunk "0" (US, Spanish, Italian mobile) written as bare digits stand
next to a word that says they are a phone number: bare and unlabelled, "612345678" is
as likely a customer number, and the detector leaves it (see ``LoosePhoneRecognizer``).
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import phonenumbers
from faker import Faker
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.sqlite import SqliteSaver

from casepilot.agent.llm_planner import LLMPlanner
from casepilot.agent.orchestrator import Person
from casepilot.demo.payment_tools import BANK
from casepilot.governance.budget import ModelPrice, PriceTable
from casepilot.governance.pii._lexicon import PARTICLES, lexicon
from tests._http import JsonHandler, serving
from tests.agent._support import CLAIMS, TaskSpec, calls_of, write_bundle
from tests.agent.conftest import OrchFactory

LETTERS = 50
SEED = 20_240_514
LOCALES = ("en_GB", "en_US", "nl_NL", "de_DE", "fr_FR", "it_IT", "es_ES")
REGION = {"en_GB": "GB", "en_US": "US", "nl_NL": "NL", "de_DE": "DE", "fr_FR": "FR", "it_IT": "IT", "es_ES": "ES"}
# Surname particles and prefixes as each locale writes them.
PARTICLE_FORMS = {
    "en_GB": ("O'{}", "Mc{}"),
    "en_US": ("al-{}", "bin {}", "Mac{}"),
    "nl_NL": ("van {}", "van der {}", "de {}", "ter {}", "van den {}"),
    "de_DE": ("von {}", "von der {}", "zu {}"),
    "fr_FR": ("de {}", "du {}", "de la {}", "le {}"),
    "it_IT": ("di {}", "da {}", "De {}", "del {}"),
    "es_ES": ("de {}", "del {}", "de la {}"),
}
UNHAPPY = (
    "This is the third time I write and nobody answers. I am angry and very disappointed with "
    "your terrible service."
)


@dataclass
class Letter:
    """One generated letter and the raw values it holds."""

    text: str
    locale: str
    names: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    """E-mails, phones, IBANs, cards as written."""
    compact: list[str] = field(default_factory=list)
    """The same numbers without separators (a phone's bare national digits, an IBAN in one block)."""
    unhappy: bool = False


def _phone(rnd: random.Random, region: str) -> phonenumbers.PhoneNumber:
    """A valid number of ``region``'s plan: an example number with random subscriber digits."""
    kind = rnd.choice((phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE))
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    national = str(example.national_number)
    for _ in range(500):
        keep = max(2, len(national) - 6)
        candidate = national[:keep] + "".join(rnd.choice("0123456789") for _ in national[keep:])
        number = phonenumbers.parse(f"+{example.country_code}{candidate}", None)
        number.italian_leading_zero = example.italian_leading_zero
        if phonenumbers.is_valid_number(number):
            return number
    return example


def _phone_text(rnd: random.Random, number: phonenumbers.PhoneNumber) -> tuple[str, str, bool]:
    """(as written, bare national digits, needs a phone word nearby)."""
    fmt = phonenumbers.PhoneNumberFormat
    national = phonenumbers.format_number(number, fmt.NATIONAL)
    bare = re.sub(r"\D", "", national)
    layouts = [
        (phonenumbers.format_number(number, fmt.INTERNATIONAL), False),
        (phonenumbers.format_number(number, fmt.E164), False),
        ("00" + phonenumbers.format_number(number, fmt.E164)[1:], False),
        (national, False),
        (national.replace(" ", "-"), False),
        (bare, not bare.startswith("0")),
    ]
    if "(" not in national:
        layouts.append((national.replace(" ", "."), False))
    written, needs_word = rnd.choice(layouts)
    return written, bare, needs_word


def _name(rnd: random.Random, fake: Faker, locale: str, style: int) -> str:
    first, last = fake.first_name(), fake.last_name().split()[-1]
    if style == 1:
        last = f"{last}-{fake.last_name().split()[-1]}"  # "Smith-Jones", "Dubois-Lefèvre"
    elif style == 2:
        last = rnd.choice(PARTICLE_FORMS[locale]).format(last)  # "van der Leek", "O'Brien", "al-Rashid"
    elif style == 3:
        form = rnd.choice([f for f in PARTICLE_FORMS[locale] if " " in f] or ["{}"])
        last = f"{last}-{form.format(fake.last_name().split()[-1])}"  # "Jansen-van Ooyen"
    elif style == 4:
        first = f"{first}-{fake.first_name()}"  # "Marie-Claire"
    return f"{first} {last}"


def make_letters(count: int = LETTERS, seed: int = SEED) -> list[Letter]:
    """``count`` letters, the same ones on every run."""
    rnd = random.Random(seed)
    fakers = {locale: Faker(locale) for locale in LOCALES}
    letters: list[Letter] = []
    for i in range(count):
        locale = LOCALES[i % len(LOCALES)]
        fake = fakers[locale]
        fake.seed_instance(seed + i)
        name = _name(rnd, fake, locale, i % 5)
        other = _name(rnd, fake, locale, (i + 2) % 5)
        if i == 0:
            name, other = "Pieter Jansen-van Ooyen", "Marie-Claire Dubois"
        email = rnd.choice([fake.email(), f"{re.sub(r'[^a-z]', '', name.split()[0].lower())}.{i}@example.org"])
        phone, phone_bare, phone_word = _phone_text(rnd, _phone(rnd, REGION[locale]))
        phone2, phone2_bare, phone2_word = _phone_text(rnd, _phone(rnd, REGION[locale]))
        if i == 0:
            phone, phone_bare, phone_word = "07314277224", "07314277224", False
            phone2, phone2_bare, phone2_word = "0265969390", "0265969390", False
        iban = fake.iban()
        iban_written = " ".join(re.findall(".{1,4}", iban)) if rnd.random() < 0.5 else iban
        card = fake.credit_card_number()
        card_written = " ".join(re.findall(".{1,4}", card)) if len(card) == 16 and rnd.random() < 0.5 else card
        amount = rnd.choice(["450.00", "1,250.50", "800", "2.300,00", "12500"])
        unhappy = i % 3 == 0
        reach = f"on my mobile {phone}" if phone_word else rnd.choice([f"on {phone}", phone])
        signature_phone = f"Tel. {phone2}" if phone2_word else phone2
        text = (
            f"Dear claims team,\n\nMy name is {name} and I write about my car. Last week a van hit it "
            f"while it was parked outside my house. The garage quotes EUR {amount} for the repair.\n"
            + (f"{UNHAPPY}\n" if unhappy else "")
            + f"Please pay it to my account {iban_written}. The rental car deposit was charged to my card "
            f"{card_written}.\nThe other driver, {other}, admitted fault. You can reach me at {email} or "
            f"{reach}.\n\nKind regards,\n{name}\n{signature_phone}\n"
        )
        values = [email, phone, phone2, iban_written, iban, card_written, card]
        letters.append(Letter(text, locale, [name, other], values, [phone_bare, phone2_bare], unhappy))
    return letters


# -- the raw values and where they must not be -------------------------------------------------


@dataclass(frozen=True)
class Forbidden:
    """Every raw value of the letters, and a fast search for them in any text.

    Names as written, and each name part of three or more letters that is not a common
    word or a particle, as a whole word ("Ooyen" left over from "Jansen-van Ooyen" is a
    leak; "van" and "Green" are everywhere); e-mails, phones, IBANs and cards as written;
    phones' national digits and compact IBANs and cards as whole alphanumeric runs.
    """

    words: frozenset[str]
    values: tuple[str, ...]
    runs: frozenset[str]

    def search(self, text: str) -> list[str]:
        found = [w for w in _WORDS.findall(text) if w in self.words]
        found += [r for r in _RUNS.findall(text) if r in self.runs]
        return found + [v for v in self.values if v in text]


_WORDS = re.compile(r"[^\W\d_]+")
_RUNS = re.compile(r"[0-9A-Za-z]+")


def forbidden(letters: list[Letter]) -> Forbidden:
    common = lexicon().common_words
    words: set[str] = set()
    values: set[str] = set()
    runs: set[str] = set()
    for letter in letters:
        for name in letter.names:
            values.add(name)
            for part in _WORDS.findall(name):
                stem = re.sub(r"^(?:Mc|Mac)(?=[A-Z])", "", part)
                words.update(w for w in {part, stem}
                             if len(w) >= 3 and w.casefold() not in common and w.casefold() not in PARTICLES)
        values.update(letter.values)
        runs.update(letter.compact)
        runs.update(v for v in letter.values if v.isalnum())
    return Forbidden(frozenset(words), tuple(sorted(values)), frozenset(runs))


def leaks_in(where: str, text: str, raw: Forbidden) -> list[str]:
    return [f"{value!r} in {where}" for value in raw.search(text)]


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)


def _decoded(value: Any) -> str:
    """A column value as text: JSON decoded (so "\\u00e9" is "é"), bytes as UTF-8."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            return _dump(json.loads(value))
        except ValueError:
            return value
    return str(value)


def sqlite_rows(path: Path, skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    """(table, text of one row) for every row of every table in the SQLite file at ``path``."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if table in skip:
                continue
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                yield table, " ".join(_decoded(v) for v in row)
    finally:
        conn.close()


# -- the model: a recording server that works the claim like a sensible model -------------------


PREFERRED = ("Extract claim details", "Score sentiment", "Pay claim", "Copy letter", "Pay out")
DESK_TASKS = (
    TaskSpec("copy", "Copy letter", "echo_text", {"text": "letter"}, {"copy": "text"}),
    TaskSpec("pay", "Pay out", "wire_transfer", {"iban": "iban"}, {"paid": "done"}, after="copy"),
)


@contextmanager
def recording_model() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """An OpenAI-protocol endpoint: extract, score, pay, else wait; every request body is kept.

    Its rationale quotes the case's pseudonyms back (as models do), so what the model
    writes goes through the same checks.
    """
    received: list[dict[str, Any]] = []
    lock = threading.Lock()

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            body = self.read_json()
            with lock:
                received.append(body)
            tools = {t["function"]["description"].split(":", 1)[1].split(".", 1)[0].strip(): t["function"]["name"]
                     for t in body.get("tools", [])}
            choice = next((tools[label] for label in PREFERRED if label in tools), "wait")
            tokens = sorted(set(re.findall(r"<[A-Z_]+_\d+>", json.dumps(body))))[:2]
            arguments = {"rationale": f"next step for {' and '.join(tokens) or 'the case'}", "confidence": 0.9}
            reply = {
                "id": f"chatcmpl-{len(received)}", "object": "chat.completion", "created": 0, "model": "leak-model",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                    "role": "assistant", "content": None,
                    "tool_calls": [{"id": "call_1", "type": "function",
                                    "function": {"name": choice, "arguments": json.dumps(arguments)}}]}}],
                "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60},
            }
            self.send_body(200, json.dumps(reply).encode())

    with serving(Handler) as base:
        yield f"{base}/v1", received


# -- the test ---------------------------------------------------------------------------------------


def test_letters_are_varied_and_hold_the_formats_the_issue_names() -> None:
    letters = make_letters()
    text = "\n".join(letter.text for letter in letters)
    assert len(letters) == LETTERS and {letter.locale for letter in letters} == set(LOCALES)
    assert "Jansen-van Ooyen" in text and "07314277224" in text and "0265969390" in text
    names = [n for letter in letters for n in letter.names]
    assert sum("-" in n for n in names) >= 15  # hyphenated given names and surnames
    assert sum(any(f" {p} " in f" {n} " for p in PARTICLES) for n in names) >= 10  # particles
    phones = [v for letter in letters for v in letter.values[1:3]]
    assert sum(p.isdigit() for p in phones) >= 8  # bare digits
    assert sum(p.startswith("+") for p in phones) >= 8
    assert sum(letter.unhappy for letter in letters) >= 15
    assert make_letters() == letters  # the same letters on every run


def test_no_raw_value_in_requests_history_state_checkpoints_or_inbox(make_orch: OrchFactory, tmp_path: Path) -> None:
    letters = make_letters()
    patterns = forbidden(letters)
    assert patterns.search(letters[0].text)  # the check can see a leak
    person = Person("ann", {"senior analyst", "payments officer", "claims manager"})
    desk = write_bundle(tmp_path / "desk", "leak-desk", DESK_TASKS, variables=("letter", "iban"),
                        guardrails=[("wire_transfer", "require_human", "payments officer")])
    started = time.perf_counter()
    with recording_model() as (url, received):
        # priced: the claim bundle limits cost, and a model without a price is not called then
        planner = LLMPlanner(model="leak-model", base_url=url, api_key="test", timeout=20,
                             prices=PriceTable({"leak-model": ModelPrice(Decimal("0.1"), Decimal("0.1"))}))
        orch, store = make_orch(planner)
        claims = orch.deploy(CLAIMS).key
        orch.deploy(desk)
        cases: list[str] = []
        decided: list[str] = []
        for i, letter in enumerate(letters):
            # the claim form's payee and IBAN: the payment process (payment.bpmn) pays them
            starts = [(claims, {"letter": letter.text, "claim_id": f"CLM-LEAK-{i}", "payee": letter.names[0],
                                "iban": letter.values[3]})]
            if i % 5 == 0:
                starts.append(("leak-desk", {"letter": letter.text, "iban": letter.values[3]}))
            for key, variables in starts:
                case = orch.start_case(key, variables)
                cases.append(case.id)
                outcome = orch.run(case.id)
                for _ in range(4):
                    if not outcome.pending:
                        break
                    for task in outcome.pending:
                        name, phone, iban = letter.names[0], letter.values[1], letter.values[3]
                        comment = f"Called {name} on {phone}; IBAN {iban} confirmed by {letter.names[1]}."
                        choice = "approve" if "approve" in task.options else task.options[0]
                        # the payment's claims manager approves with the form's field
                        values = {"approved": True} if task.role == "claims manager" else None
                        orch.decide(task.id, person, choice, comment, values=values)
                        decided.append(task.id)
                    outcome = orch.run(case.id)
                assert outcome.case_state in {"active", "completed"}, outcome
    elapsed = time.perf_counter() - started

    db = store.sqlite_path
    assert db is not None
    checkpoints_db = db.with_name(db.name + ".langgraph")  # where the Orchestrator keeps LangGraph's checkpoints
    saver = SqliteSaver(sqlite3.connect(str(checkpoints_db), check_same_thread=False))
    found: list[str] = []
    for n, body in enumerate(received):
        found += leaks_in(f"request {n}", _dump(body), patterns)
    for case_id in cases:
        found += leaks_in(f"history of {case_id}", _dump([e.payload for e in store.history(case_id)]), patterns)
        found += leaks_in(f"state of {case_id}", _dump(store.case(case_id).state), patterns)
        for task in store.tasks(case_id=case_id):
            found += leaks_in(f"inbox item {task.id}", _dump(task.model_dump()), patterns)
        config: RunnableConfig = {"configurable": {"thread_id": case_id}}
        saved = list(saver.list(config))
        assert saved, f"no checkpoint of {case_id}"
        for one in saved:
            found += leaks_in(f"checkpoint of {case_id}", _dump([one.checkpoint, one.metadata, one.pending_writes]),
                              patterns)
    saver.conn.close()
    for table, row in sqlite_rows(db, skip=frozenset({"vault_entries", "vault_keys"})):
        found += leaks_in(f"store table {table}", row, patterns)
    for table, row in sqlite_rows(checkpoints_db):
        found += leaks_in(f"checkpoint table {table}", row, patterns)

    assert not found, f"{len(found)} raw values found:\n" + "\n".join(sorted(set(found))[:60])
    # the test looked where it claims to: everything happened, and the comments were kept
    assert len(received) >= 3 * LETTERS
    assert len(decided) >= 15
    # governance checkpoints and the model's human task were both decided with a comment
    assert {store.task(t).kind for t in decided} == {"checkpoint", "human_task"}
    # the approved payments ran, in-process, with the clear IBAN the case only holds as a pseudonym
    assert [c["iban"] for c in calls_of("wire_transfer")] == [letters[i].values[3] for i in range(0, LETTERS, 5)]
    # and so did the claims' payment processes: pay_claim moved money to the clear IBAN and payee
    transfers = {t.reference: (t.payee, t.iban) for t in BANK.transfers if (t.reference or "").startswith("CLM-LEAK-")}
    assert len(transfers) >= LETTERS // 2
    assert all(transfers[f"CLM-LEAK-{i}"] == (letter.names[0], letter.values[3])
               for i, letter in enumerate(letters) if f"CLM-LEAK-{i}" in transfers)
    comments = [store.task(t).comment or "" for t in decided]
    assert all("<PERSON_" in c and "<PHONE_NUMBER_" in c and "<IBAN_CODE_" in c for c in comments), comments[:3]
    print(f"{LETTERS} letters, {len(received)} model requests, {len(decided)} decisions in {elapsed:.1f}s")
