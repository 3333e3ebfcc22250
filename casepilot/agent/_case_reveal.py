"""A CMMN case's conditions and decision tasks see the clear values behind its pseudonyms.

The case file keeps personal data as pseudonyms (``<PERSON_1>``). A sentry if-part
``payee = "John Smith"``, an item's required / repetition / manual-activation or applicability
rule, a timer expression and a decision task's DMN decision are evaluated in-process on a
revealed view of the variables they read (``casepilot.governance.pii.reveal``): the CMMN
engine stays pure and gets this object as its ``ExpressionView``; the decision task asks it
for its inputs (``decision_view``). Nothing clear is stored: the case file, history and
snapshots keep the pseudonyms.

* **Only what is read, kept for one operation.** Only the variables an expression names are
  searched; an expression whose variables hold no pseudonym costs no vault read and no copy.
  Within one engine operation (``batch``: completing a task re-evaluates every armed if-part
  that reads what changed) an evaluation reads, in one vault read, only the pseudonyms the
  operation has not revealed yet; all are forgotten when the operation ends: a loaded case
  lives on in the case cache across steps, and neither clear values nor an erasure that
  happened since may outlive the operation.
* **Fail closed on erased data.** A pseudonym that cannot be revealed raises
  ``PersonalDataErased``: the CMMN operation that evaluated the condition is not applied
  (the step writer then fails the case and records why, ``_step_writer``); a decision task
  faults (``_task_kinds``). Never is the expression evaluated on the pseudonym or on null.
* **A read-only listing neither fails nor writes.** Listing what may be done in a case
  outside a step — people's actions (``GET /cases/{id}/actions``, the case page, ``casepilot
  actions``), the chat's possible actions — evaluates applicability rules too. There a rule
  that reads erased data leaves its discretionary item out (it is never offered: offering it
  would be guessing *true*) and the listing says so (:class:`Unavailable`: the item and the
  reason, "personal data erased"); everything else is listed as usual. The listing records
  nothing and does not fail the case: a GET that writes history would turn every look at the
  page into an event (and a write conflict with the worker working the case), and the case's
  fate is a write's business — the next step, which evaluates the same rule, fails the case
  and records why (``fail_unrevealable``), and a person asking to plan the item has the case
  failed the same way and is refused (``_people_ops.perform``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from casepilot.agent._recording import record_transitions
from casepilot.cmmn.runtime.actions import PlanDiscretionary
from casepilot.errors import CasepilotError, ConcurrencyConflict, NotFound, PersonalDataErased
from casepilot.governance.pii.reveal import reveal_names, tokens_in
from casepilot.governance.pii.vault import reveal_tokens

if TYPE_CHECKING:
    from casepilot.agent._step_writer import StepWriter
    from casepilot.agent.privacy import CasePrivacy

__all__ = ["CaseReveal", "Unavailable", "case_reveal", "fail_unrevealable", "unavailable"]


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A discretionary item a read-only listing does not offer: its applicability cannot be evaluated."""

    id: str
    """The id it would be offered under (``plan:<item>:<owner>``, as options and people's actions)."""
    item: str
    """The discretionary item's id in the case model."""
    label: str
    reason: str
    """Why, for people: the personal data its rule reads was erased, and what follows."""


def unavailable(found: Iterable[tuple[PlanDiscretionary, CasepilotError]]) -> list[Unavailable]:
    """What ``EngineCase.listable`` left out, for people (see the module docstring)."""
    out: list[Unavailable] = []
    for action, exc in found:
        erased = isinstance(exc, PersonalDataErased)
        why = ("personal data erased: its applicability rule reads personal data that was erased "
               "(casepilot erase), so it cannot be evaluated; the case fails at its next step"
               if erased else "its applicability rule cannot be evaluated")
        out.append(Unavailable(f"plan:{action.item}:{action.owner}", action.item, action.name, f"{why} ({exc})"))
    return out


class CaseReveal:
    """The clear values behind one case's pseudonyms, per evaluation (see the module docstring).

    A ``casepilot.cmmn.runtime.conditions.ExpressionView`` (called with the variables and the
    names a condition reads) and a ``casepilot.governance.pii.reveal.Revealer``.
    """

    __slots__ = ("_clear", "case_id", "privacy")

    def __init__(self, privacy: CasePrivacy, case_id: str) -> None:
        self.privacy = privacy
        self.case_id = case_id
        self._clear: dict[str, str] | None = None
        """What this operation revealed so far (``batch``); None outside one: nothing is kept."""

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One engine operation: what it reveals is read once and forgotten at its end (nested: the outer one)."""
        if self._clear is not None:
            yield
            return
        self._clear = {}
        try:
            yield
        finally:
            self._clear = None

    def __call__(self, variables: Mapping[str, Any], read: frozenset[str]) -> Mapping[str, Any]:
        try:
            return reveal_names(variables, read, self)[0]
        except PersonalDataErased as exc:
            raise PersonalDataErased(
                f"a condition of case {self.case_id} reads "
                f"{', '.join(sorted(n for n in read if n in variables and tokens_in(variables[n])))}, "
                f"whose personal data cannot be revealed: {exc}"
            ) from exc

    def decision_view(
        self, variables: Mapping[str, Any], read: Iterable[str]
    ) -> tuple[Mapping[str, Any], dict[str, str]]:
        """The variables a decision reads, revealed, and the ``token -> clear`` used (to conceal its result)."""
        return reveal_names(variables, read, self)

    def reveal(self, tokens: Collection[str]) -> Mapping[str, str]:
        kept = self._clear
        missing = list(tokens) if kept is None else [t for t in dict.fromkeys(tokens) if t not in kept]
        try:
            found = reveal_tokens(self.privacy.vault, self.case_id, missing) if missing else {}
        except NotFound as exc:
            raise PersonalDataErased(
                f"the personal data behind {', '.join(sorted(set(missing)))} of case {self.case_id} cannot be "
                f"revealed ({exc})"
            ) from exc
        if kept is None:
            return found
        kept.update(found)
        return {t: kept[t] for t in tokens}

    def conceal(self, value: Any) -> Any:
        return self.privacy.redact_value(value, self.case_id)[0]

    def conceal_as(self, text: str, kind: str) -> str:
        return self.privacy.pseudonymizer.redact_whole(text, kind, self.case_id).text


def case_reveal(privacy: CasePrivacy | None, case_id: str) -> CaseReveal | None:
    """The case's reveal hook; None without a privacy layer (the case file holds clear values then)."""
    return None if privacy is None else CaseReveal(privacy, case_id)


_RECORDED = "_casepilot_recorded"
"""Set on a ``PersonalDataErased`` once ``fail_unrevealable`` handled it (it is raised on after)."""


def fail_unrevealable(writer: StepWriter, case_id: str, exc: PersonalDataErased) -> None:
    """After a step failed (nothing of it written) because a condition reads erased personal data —
    or the agent's loop could not list the case's options for that reason (``Nodes.observe``: an
    applicability rule) — fail the case in a step of its own and record why (once per error).

    Why fail the case: the condition can never be evaluated again (the data is gone), and any
    answer the engine could make up — false, so a review is skipped or a stage completes
    without it; true, so a payment starts — would be a guess. Every later operation that
    evaluates the condition would fail the same way. A person sees the failed case and the
    ``error`` event (``source: personal_data``) in the history; terminating or closing it is
    theirs. When even failing it evaluates the condition (the case clock's due timers, the
    case's own exit criteria), only the error is recorded. A case another writer moved on
    meanwhile is left to that writer (its step meets the same condition).
    """
    if getattr(exc, _RECORDED, False):
        return  # a step recorded it already; the error passed on to a caller that records too
    setattr(exc, _RECORDED, True)
    problem = (
        f"{exc}. The case's personal data was erased (casepilot erase), so this condition can never be "
        "evaluated: the case fails rather than guess. Terminate or close the case; it cannot go on."
    )
    for fault in (True, False):
        try:
            with writer.write(case_id) as (step, loaded):
                engine = loaded.engine
                failing = fault and engine is not None and engine.state == "active"
                step.append(
                    "error",
                    actor="system",
                    payload={"problem": problem, "source": "personal_data", "case_failed": failing},
                )
                if failing:
                    assert engine is not None
                    record_transitions(step, engine.fault(None), "system")
            return
        except PersonalDataErased:
            continue
        except ConcurrencyConflict:
            return
