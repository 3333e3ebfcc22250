"""DMN 1.5 §10.3.4.3 string functions, written from the specification text.

``matches``, ``replace`` and ``split`` take XML Schema regular expressions as extended by
XPath 3.1 (fn:matches §5.6.1: anchors, reluctant quantifiers, back-references; flags
``s m i x q``). Anything outside that syntax, an unknown flag, or a pattern that matches the
empty string in ``replace``/``split`` is an error, so the result is null.
"""

from __future__ import annotations

import pytest

from tests.dmn.spec._check import check

BASIC = [
    ('substring("foobar", 3)', '"obar"'),
    ('substring("foobar", 3, 3)', '"oba"'),
    ('substring("foobar", -2, 1)', '"a"'),
    ('substring("foobar", -6)', '"foobar"'),
    ('substring("\U0001f40eab", 2)', '"ab"'),
    ('substring(string: "foobar", start position: 2, length: 2)', '"oo"'),
    ('substring("foobar", 0)', "null"),
    ('substring("foobar", 7)', "null"),
    ("substring(null, 1)", "null"),
    ('substring("foobar", "1")', "null"),
    ('string length("foo")', "3"),
    ('string length("\U0001f40eab")', "3"),
    ('string length(string: "")', "0"),
    ("string length(1)", "null"),
    ('upper case("aBc4")', '"ABC4"'),
    ('upper case(string: "ß")', '"SS"'),
    ('lower case("aBc4")', '"abc4"'),
    ("lower case(null)", "null"),
    ('substring before("foobar", "bar")', '"foo"'),
    ('substring before("foobar", "xyz")', '""'),
    ('substring before(string: "foobar", match: "o")', '"f"'),
    ('substring after("foobar", "ob")', '"ar"'),
    ('substring after("", "a")', '""'),
    ('substring after("foo", "")', '"foo"'),
    ('substring after(string: "foobar", match: "x")', '""'),
    ("substring after(1, 1)", "null"),
    ('contains("foobar", "of")', "false"),
    ('contains(string: "foobar", match: "ob")', "true"),
    ('contains("foobar", "")', "true"),
    ('contains("foobar", null)', "null"),
    ('starts with("foobar", "fo")', "true"),
    ('starts with(string: "foobar", match: "b")', "false"),
    ('ends with("foobar", "r")', "true"),
    ('ends with(string: "foobar", match: "o")', "false"),
    ("ends with(1, 1)", "null"),
    ('string join(["a", "b", "c"], "_and_")', '"a_and_b_and_c"'),
    ('string join(["a", "b", "c"], "")', '"abc"'),
    ('string join(["a", "b", "c"], null)', '"abc"'),
    ('string join(["a"], "X")', '"a"'),
    ('string join(["a", null, "c"])', '"ac"'),
    ('string join(list: ["a", "b"], delimiter: ", ")', '"a, b"'),
    ('string join(list: ["a", "b"])', '"ab"'),
    ("string join([])", '""'),
    ('string join(["a", 1])', "null"),
    ('string join("a")', '"a"'),
    ("string join(null)", "null"),
]

MATCHES = [
    ('matches("abracadabra", "bra")', "true"),
    ('matches("abracadabra", "^a.*a$")', "true"),
    ('matches("abracadabra", "^bra")', "false"),
    ('matches(input: "abc", pattern: "B", flags: "i")', "true"),
    ('matches(input: "abc", pattern: "b")', "true"),
    ('matches("Mary\\nJones", "Mary.Jones")', "false"),
    ('matches("Mary\\nJones", "Mary.Jones", "s")', "true"),
    ('matches("Mary\\nJones", "^Jones$")', "false"),
    ('matches("Mary\\nJones", "^Jones$", "m")', "true"),
    ('matches("abc\\n", "abc$")', "false"),
    ('matches("AbC", "abc", "i")', "true"),
    ('matches("abc", "a b c", "x")', "true"),
    ('matches("a c", "^a c$", "x")', "false"),
    ('matches("ac", "^a c$", "x")', "true"),
    ('matches("a.c", "a.c", "q")', "true"),
    ('matches("abc", "a.c", "q")', "false"),
    ('matches("A.C", "a.c", "qi")', "true"),
    ('matches("abc", "")', "true"),
    ('matches("b", "[a-z-[aeiou]]")', "true"),
    ('matches("a", "[a-z-[aeiou]]")', "false"),
    ('matches("É", "^\\p{Lu}$")', "true"),
    ('matches("é", "^\\P{Lu}$")', "true"),
    ('matches("x", "^\\p{IsBasicLatin}$")', "true"),
    ('matches("abc", "^\\i\\c*$")', "true"),
    ('matches("1abc", "^\\i\\c*$")', "false"),
    ('matches("abab", "^(ab)\\1$")', "true"),
    ('matches("aaa", "^a{2,}$")', "true"),
    ('matches("aaa", "^a{2,}?$")', "true"),
    ('matches("a\\tb", "a\\sb")', "true"),
    ('matches("abc", "\\w+")', "true"),
    ('matches("abc", "abc", "g")', "null"),
    ('matches("abc", "[")', "null"),
    ('matches("abc", "(?i)ABC")', "null"),
    ('matches("abc", "a(?=b)")', "null"),
    ('matches("abc", "\\Aabc")', "null"),
    ('matches("abc", "abc\\Z")', "null"),
    ('matches("abc", "\\bb")', "null"),
    ('matches(null, "a")', "null"),
    ('matches("a", null)', "null"),
    ('matches("a", "a", null)', "true"),
    ('matches(1, "1")', "null"),
]

REPLACE = [
    ('replace("abcd", "(ab)|(a)", "[1=$1][2=$2]")', '"[1=ab][2=]cd"'),
    ('replace("abracadabra", "bra", "*")', '"a*cada*"'),
    ('replace("abracadabra", "a.*a", "*")', '"*"'),
    ('replace("abracadabra", "a.*?a", "*")', '"*c*bra"'),
    ('replace("abracadabra", "a", "")', '"brcdbr"'),
    ('replace("abracadabra", "a(.)", "a$1$1")', '"abbraccaddabbra"'),
    ('replace("AAAA", "A+", "b")', '"b"'),
    ('replace("AAAA", "A+?", "b")', '"bbbb"'),
    ('replace("darted", "^(.*?)d(.*)$", "$1c$2")', '"carted"'),
    ('replace(input: "abc", pattern: "B", replacement: "x", flags: "i")', '"axc"'),
    ('replace(input: "abc", pattern: "b", replacement: "x")', '"axc"'),
    ('replace("a.b.c", ".", "-", "q")', '"a-b-c"'),
    ('replace("abc", "b", "$", "q")', '"a$c"'),
    ('replace("abc", "b", "\\\\$")', '"a$c"'),
    ('replace("abc", "(b)", "$10")', '"ab0c"'),
    ('replace("a\\nb", "^b", "x", "m")', '"a\\nx"'),
    ('replace("ABC", "b", "x", "i")', '"AxC"'),
    ('replace("abc", "", "x")', "null"),
    ('replace("abc", "b*", "x")', "null"),
    ('replace("abc", "b", "$")', "null"),
    ('replace("abc", "b", "\\\\")', "null"),
    ('replace("abc", "b", "x", "z")', "null"),
    ('replace("abc", "(", "x")', "null"),
    ('replace(null, "b", "x")', "null"),
    ('replace("abc", "b", null)', "null"),
]

SPLIT = [
    ('split("John Doe", "\\s")', '["John", "Doe"]'),
    ('split("a;b;c;;", ";")', '["a", "b", "c", "", ""]'),
    ('split(string: "a-b", delimiter: "-")', '["a", "b"]'),
    ('split("a1b22c", "[0-9]+")', '["a", "b", "c"]'),
    ('split("a.b", ".")', '["", "", "", ""]'),
    ('split("a.b", ".", "q")', '["a", "b"]'),
    ('split(string: "aXbxc", delimiter: "x", flags: "i")', '["a", "b", "c"]'),
    ('split("-a-", "-")', '["", "a", ""]'),
    ('split("abc", "x")', '["abc"]'),
    ('split("", ",")', "[]"),
    ('split("a", "")', "null"),
    ('split("a", "x*")', "null"),
    ('split("a", "[")', "null"),
    ('split(null, ",")', "null"),
    ('split("a", null)', "null"),
]


@pytest.mark.parametrize(("expression", "expected"), BASIC)
def test_string_functions(expression: str, expected: str) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), MATCHES)
def test_matches(expression: str, expected: str) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), REPLACE)
def test_replace(expression: str, expected: str) -> None:
    check(expression, expected)


@pytest.mark.parametrize(("expression", "expected"), SPLIT)
def test_split(expression: str, expected: str) -> None:
    check(expression, expected)
