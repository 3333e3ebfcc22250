"""The output rail does not take casepilot's own ids for personal data, and still stops real names."""

from __future__ import annotations

from casepilot.agent.chat_rail import output_rail
from casepilot.demo.run import LETTERS
from tests.agent._support import CLAIMS
from tests.agent.conftest import OrchFactory

# The PII detector reads "Case e717604a…" as a person's name: the rail refused an answer about the
# case for naming it, depending on the random id (a flaky test found it).
NAMED_BY_ID = "Case e717604a6704437a86ffce09a8b9eeef is active; it waits for item 3f2a9c8d1e7b4a6f9c0d2e4f6a8b1c3d."


def test_ids_pass_the_rail_unchanged_and_a_clear_name_does_not(make_orch: OrchFactory) -> None:
    orch, _store = make_orch()
    orch.deploy(CLAIMS)
    case = orch.start_case("claim-triage", {"letter": LETTERS["senior-review"], "policy": "POL-1"})
    loaded = orch.runtime.load(case.id)

    shown = output_rail(orch.runtime, loaded, NAMED_BY_ID, audience="person")
    assert shown.allowed and shown.text == NAMED_BY_ID

    named = output_rail(orch.runtime, loaded, "Mary Jones from Leeds phoned about case e717604a6704437a86ffce09a8b9eeef.",
                        audience="person")
    assert not named.allowed and "no_clear_personal_data" in named.rule_ids
