"""matches / replace / split with XPath regex semantics, and the XSD → Python translation."""

from __future__ import annotations

from typing import Any

import pytest

from casepilot.dmn.feel.builtins import regex_timeout, set_regex_timeout
from casepilot.dmn.feel.builtins._xsd_regex import RegexError, compile_xsd, parse_replacement
from tests.dmn.feel.builtins._helpers import call, call_named, messages_of


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("abcd", "(ab)|(a)", "[1=$1][2=$2]"), "[1=ab][2=]cd"),
        (("a", "[b-z]", "#"), "a"),
        (("a", "[a-z]", "#"), "#"),
        (("abc", "def", "#"), "abc"),
        (("foobar", "^fo*b*", "#"), "#ar"),
        (("abc", ".^[d-z]", "#"), "abc"),
        (("abracadabra", "bra", "*"), "a*cada*"),
        (("abracadabra", "a.*a", "*"), "*"),
        (("abracadabra", "a.*?a", "*"), "*c*bra"),
        (("abracadabra", "a", ""), "brcdbr"),
        (("abracadabra", "a(.)", "a$1$1"), "abbraccaddabbra"),
        (("AAAA", "A+", "b"), "b"),
        (("AAAA", "A+?", "b"), "bbbb"),
        (("darted", "^(.*?)d(.*)$", "$1c$2"), "carted"),
        (("reluctant", "r.*?t", "X"), "Xant"),
        (("0123456789", r"(\d{3})(\d{3})(\d{4})", "($1) $2-$3"), "(012) 345-6789"),
        (("facetiously", "[iouy]", "[$0]"), "facet[i][o][u]sl[y]"),
        (("abc", "[a-z]", "#", ""), "###"),
        (("a.b.c.", "[a-z]", "#", "s"), "#.#.#."),
        (("abc", "[A-Z]", "#", "i"), "###"),
        (("a b c d ", "[a-z]", "#", "x"), "# # # # "),
        (("abc", ".^[d-z]*", "smix"), "abc"),
        (("banana", "(an)+", "**"), "b**a"),
        (("a$b", "$", "x", "q"), "axb"),  # q: literal pattern
        (("a.b", ".", "$1", "q"), "a$1b"),  # q: literal replacement
        (("price 5", r"\d", r"\$"), "price $"),
        (("a\\b", r"\\", r"\\\\"), "a\\\\b"),
        (("x", "x", "$2"), ""),  # group beyond the count: empty
        (("abcdefghijk", "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)", "$11$10"), "kj"),
        (("ab", "(a)(b)", "$12"), "a2"),  # longest existing group number
    ],
)
def test_replace(args: tuple[str, ...], expected: str) -> None:
    assert call("replace", *args) == expected


def test_replace_named_and_invalid() -> None:
    assert call_named("replace", input="abc", pattern="[a-z]", replacement="#") == "###"
    assert call_named("replace", input="abc", pattern="[A-Z]", replacement="#", flags="i") == "###"
    assert call_named("replace", input="abc", pattern="[A-Z]", replacement="#", flags="") == "abc"
    assert call("replace", "abc", "b*", "#") is None  # matches the empty string
    assert call("replace", "abc", "b", "$") is None
    assert call("replace", "abc", "b", "\\x") is None
    assert call("replace", "abc", "b", "#", "k") is None  # unknown flag
    assert call("replace", None, "b", "#") is None
    assert call("replace", "abc", "(", "#") is None
    result, messages = messages_of("replace", "abc", "(?=b)", "#")
    assert result is None and "(?:" in messages[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("banana", "[a-z]{3}"), True),
        (("abc", "^b"), False),
        (("abc", "b"), True),  # search, not full match
        (("abc", "^abc$"), True),
        (("abc\n", "abc$"), False),  # $ is the end of input, not before a final newline
        (("abc\ndef", "^def", "m"), True),
        (("abc\ndef", "abc$", "m"), True),
        (("a\nb", "a.b"), False),
        (("a\rb", "a.b"), False),
        (("a\nb", "a.b", "s"), True),
        (("ABC", "abc", "i"), True),
        (("abc", "a b c", "x"), True),
        (("a b", "a[ ]b", "x"), True),  # whitespace kept inside a class
        (("a#b", "a#b", "x"), True),  # '#' is not a comment
        (("aaa", "^a{ 2 , 3 }$", "x"), True),
        (("x", "", ""), True),
        (("", "^$"), True),
        (("a+b", "a+b", "q"), True),
        (("aab", "a+b", "q"), False),
    ],
)
def test_matches(args: tuple[str, ...], expected: bool) -> None:
    assert call("matches", *args) is expected


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ("É", r"^\p{Lu}$", True),
        ("é", r"^\p{Lu}$", False),
        ("é", r"^\p{L}$", True),
        ("٣", r"^\d$", True),  # Arabic-Indic digit is Nd
        ("٣", r"^\p{Nd}$", True),
        ("a", r"^\P{L}$", False),
        ("1", r"^\P{L}$", True),
        ("$", r"^\w$", True),  # XSD \w includes symbols (only P, Z, C are excluded)
        ("-", r"^\w$", False),
        ("_", r"^\w$", False),  # '_' is punctuation (Pc)
        (" ", r"^\s$", True),
        ("\u00a0", r"^\s$", False),  # XSD \s is only space, tab, CR, LF
        ("\u00a0", r"^\S$", True),
        ("x", r"^[\s\d]$", False),
        ("7", r"^[\s\d]$", True),
        ("a", r"^[^\s\d]$", True),
        ("a", r"^[\S]$", True),
        (" ", r"^[a\S]$", False),
        ("b", r"^[^a\S]$", False),
        (" ", r"^[^a\S]$", True),
        ("b", r"^[a-z-[aeiou]]$", True),
        ("e", r"^[a-z-[aeiou]]$", False),
        ("e", r"^[a-z-[aeiou-[e]]]$", True),
        ("a", r"^\p{IsBasicLatin}$", True),
        ("é", r"^\p{IsBasicLatin}$", False),
        ("x", r"^\i\c*$", True),
        ("1x", r"^\i\c*$", False),
        ("a-b.c", r"^\i\c*$", True),
        ("-", r"^[\-]$", True),
        ("a", r"^[-a]$", True),
        ("-", r"^[a-]$", True),
        ("]", r"^\]$", True),
        ("[", r"^[\[]$", True),
        ("^", r"^[\^]$", True),
        ("aa", r"^(a)\1$", True),
        ("ab", r"^(?:a)b$", True),
        ("aaa", r"^a{2,}$", True),
        ("a", r"^a{2,}$", False),
    ],
)
def test_xsd_constructs(text: str, pattern: str, expected: bool) -> None:
    assert call("matches", text, pattern) is expected


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?=a)",  # look-ahead
        r"(?<n>a)",  # named group
        r"\b",  # not XSD
        r"\x41",
        r"a{,3}",
        r"a{3,1}",
        r"a**",
        r"a*+",  # possessive
        r"*a",
        r"[a",
        r"(a",
        r"a)",
        r"[[a]]",
        r"\p{Foo}",
        r"\p{IsKlingon}",
        r"\1(a)",  # back-reference before the group closes
        r"[z-a]",
    ],
)
def test_untranslatable_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(RegexError):
        compile_xsd(pattern)
    assert call("matches", "a", pattern) is None


def test_flags_validated() -> None:
    with pytest.raises(RegexError, match="unknown regex flag"):
        compile_xsd("a", "g")


def test_parse_replacement() -> None:
    assert parse_replacement("x$1y", 1, literal=False) == ("x", 1, "y")
    assert parse_replacement("$1", 0, literal=False) == ("",)
    assert parse_replacement("a$b", 1, literal=True) == ("a$b",)
    with pytest.raises(RegexError):
        parse_replacement("$", 1, literal=False)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("John Doe", r"\s"), ["John", "Doe"]),
        (("a;b;c;;", ";"), ["a", "b", "c", "", ""]),
        (("a1b22c", r"\d+"), ["a", "b", "c"]),
        (("abc", ","), ["abc"]),
        (("", ","), []),
        ((",a", ","), ["", "a"]),
        (("a(b)c", "[()]"), ["a", "b", "c"]),
    ],
)
def test_split(args: tuple[str, str], expected: list[str]) -> None:
    assert call("split", *args) == expected


@pytest.mark.parametrize("args", [("abc", "x*"), (None, ","), ("a", None), ("a", "[")])
def test_split_invalid(args: tuple[Any, ...]) -> None:
    assert call("split", *args) is None


def test_split_named() -> None:
    assert call_named("split", string="a-b", delimiter="-") == ["a", "b"]


@pytest.fixture
def short_regex_budget() -> Any:
    """A 0.2 s budget per regex call, so the timeout tests stay fast."""
    previous = set_regex_timeout(0.2)
    yield
    set_regex_timeout(previous)


@pytest.mark.timeout(20)
def test_nested_quantifier_answers_without_hanging(short_regex_budget: Any) -> None:
    # took 35 s with Python's re; the regex package answers it (correctly: no match)
    assert call("matches", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "^(a+)+$") is False


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("matches", ("a" * 40 + "b", "^(a|aa)+$")),
        ("replace", ("a" * 40 + "b", "(a|aa)+c", "x")),
        ("split", ("a" * 40 + "b", "(a|aa)+c")),
    ],
)
def test_catastrophic_backtracking_gives_null_with_a_message(
    short_regex_budget: Any, name: str, args: tuple[str, ...]
) -> None:
    assert regex_timeout() == 0.2
    result, messages = messages_of(name, *args)
    assert result is None
    assert any("gave up after 0.2 s" in m for m in messages), messages


def test_regex_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        set_regex_timeout(0)
    assert regex_timeout() > 0


@pytest.mark.parametrize(
    ("text", "pattern", "expected"),
    [
        ("α", r"^\p{IsGreek}$", True),  # XSD 1.0 block name, known to regex as an alias
        ("\ue000", r"^\p{IsPrivateUse}$", True),
        ("a", r"^[\p{Lu}\d]$", False),
        ("A", r"^[\p{Lu}\d]$", True),
        ("a", r"^[^\w]$", False),
        ("!", r"^[^\w]$", True),
    ],
)
def test_categories_and_blocks_native(text: str, pattern: str, expected: bool) -> None:
    assert call("matches", text, pattern) is expected


def test_flag_i_leaves_categories_alone() -> None:
    # F&O 3.1 §5.6.1: "\p{Lu} continues to match upper-case letters only" under flag i
    assert call("matches", "a", r"^\p{Lu}$", "i") is False
    assert call("matches", "A", r"^\p{Lu}$", "i") is True
    assert call("matches", "A", r"^a\P{Lu}?$", "i") is True
    assert call("replace", "aBc", r"\p{Lu}", "x", "i") == "axc"
