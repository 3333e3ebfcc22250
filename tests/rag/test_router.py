from __future__ import annotations

from pathlib import Path

import pytest

from casepilot.dmn import DecisionModel
from casepilot.errors import RetrievalError
from casepilot.rag import (
    EXAMPLE_ROUTING,
    OpenAIEmbeddings,
    Route,
    Router,
    WordLlamaEmbeddings,
    embedding_function_named,
)


@pytest.fixture(scope="module")
def router() -> Router:
    return Router()


@pytest.mark.parametrize(
    ("query", "case_definition", "topic", "expected"),
    [
        (
            "is hail covered?",
            "claim-triage",
            "aerodynamics",
            Route("policies", "wordllama", ("claims_policies",)),
        ),
        ("is hail covered?", "onboarding", "coverage", Route("policies", "wordllama", ("policy_topics",))),
        ("wing in a slipstream", None, "aerodynamics", Route("aero", "wordllama", ("aero",))),
        ("x" * 250, "research", "engineering", Route("aero", "openai", ("aero_long",))),
        ("x" * 199, "research", "engineering", Route("aero", "wordllama", ("aero",))),
        ("anything else", None, None, Route("general", "wordllama", ("otherwise_general",))),
    ],
)
def test_the_example_table_routes_by_its_rules(
    router: Router, query: str, case_definition: str | None, topic: str | None, expected: Route
) -> None:
    assert router.route(query, case_definition=case_definition, topic=topic) == expected


def test_a_table_without_a_catch_all_is_a_typed_error(tmp_path: Path) -> None:
    text = EXAMPLE_ROUTING.read_text(encoding="utf-8")
    start = text.index('<rule id="otherwise_general">')
    end = text.index("</rule>", start) + len("</rule>")
    path = tmp_path / "routing.dmn"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    router = Router(DecisionModel.from_xml(path))
    assert router.route("wing", topic="aerodynamics").collection == "aero"
    with pytest.raises(RetrievalError, match="gave no route"):
        router.route("anything", topic="cooking")


def test_routes_name_embedding_functions() -> None:
    assert isinstance(embedding_function_named("wordllama"), WordLlamaEmbeddings)
    hosted = embedding_function_named(
        "openai",
        {"CASEPILOT_EMBEDDING_MODEL": "text-embedding-3-small", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"},
    )
    assert (
        isinstance(hosted, OpenAIEmbeddings) and hosted.identity == "casepilot-openai:text-embedding-3-small"
    )
    with pytest.raises(RetrievalError, match="CASEPILOT_EMBEDDING_MODEL is not set"):
        embedding_function_named("openai", {})
    with pytest.raises(RetrievalError, match="unknown embedding 'bert'"):
        embedding_function_named("bert")
