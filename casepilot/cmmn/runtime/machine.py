"""The case state machine: state, transitions and their consequences, the settle loop.

Every state change goes through :meth:`CaseMachine.transition`, which consults the one
transition table (``lifecycle.next_state``), records a :class:`TransitionEvent` and applies the
structural consequences of CMMN 1.1 chapter 8 at once (a started stage creates its children,
a terminated stage ends them, a non-blocking task completes, an item without entry criteria
repeats). Sentry reactions run afterwards, in event order, from the queue in :meth:`settle`;
stage completion is checked when the queue is empty, deepest stage first — so an entry sentry
is handled before its stage decides whether it is complete.

Derived indexes (live instances per stage and element, instances per state, child state counts
per stage, armed sentries, the timer heap) are rebuilt from the plain data on load and kept up
to date in :meth:`_set_state`, so no operation scans all plan items.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from casepilot.cmmn.definitions import Case, Stage, TimerEventListener
from casepilot.cmmn.runtime import sentries
from casepilot.cmmn.runtime.conditions import ExpressionView, evaluate
from casepilot.cmmn.runtime.events import EventSubject, TransitionEvent
from casepilot.cmmn.runtime.lifecycle import is_done, next_state
from casepilot.cmmn.runtime.model import CaseIndex, ItemInfo
from casepilot.cmmn.runtime.state import ItemInstance
from casepilot.cmmn.runtime.timers import add_period, parse_timer, period_of
from casepilot.errors import DefinitionError, IllegalTransition

__all__ = ["CaseMachine"]

MAX_STEPS = 200_000
"""Reactions one operation may cause before the model is declared to loop."""

_PENDING = frozenset({"Available", "Enabled", "Active", "Suspended"})
_OPEN = ("Available", "Enabled", "Active", "Suspended")
_LIVE_EXCLUDED = frozenset({"Completed", "Terminated", "Closed"})
_LISTENER_KINDS = frozenset({"userEventListener", "eventListener"})


class CaseMachine:
    """Runtime state of one case instance plus the indexes derived from it."""

    def __init__(
        self, case: Case, index: CaseIndex, instance_id: str, now: dt.datetime, ids: Callable[[], str] | None
    ) -> None:
        self.case = case
        self.ix = index
        self.id = instance_id
        self.now = now
        self.ids = ids
        self.seq = 0
        self.event_seq = 0
        self.items: dict[str, ItemInstance] = {}
        self.root = ""
        self.variables: dict[str, Any] = {}
        self.case_file: dict[str, str] = {}
        self.case_file_refs: dict[str, list[str]] = {}
        """Case file item id -> ids of the items it refers to (``addReference``, ch. 8 case file item lifecycle)."""
        # derived, rebuilt by register()
        self.live: dict[tuple[str, str], list[str]] = {}
        self.by_state: dict[str, dict[str, None]] = {}
        self.listeners: dict[str, None] = {}
        self.stages_by_def: dict[str, list[str]] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.required_pending: dict[str, int] = {}
        self.depth: dict[str, int] = {}
        self.order: dict[str, int] = {}
        self.armed: dict[str, dict[tuple[str, str, str], None]] = {}
        self.timers: list[tuple[dt.datetime, int, str]] = []
        self.queue: deque[TransitionEvent] = deque()
        self.deferred: deque[str] = deque()
        self.dirty: set[str] = set()
        self.touched: set[str] = set()
        """Instances whose plain data changed since the last ``serialization.dump_changes`` (so a
        store can persist what a step changed instead of the whole instance)."""
        self.out: list[TransitionEvent] = []
        self.dispatching: TransitionEvent | None = None
        self.replay = False
        self.view: ExpressionView | None = None
        """The host's view of the variables a condition or timer expression reads
        (``conditions.ExpressionView``); None: the stored variables. Not part of the state."""

    # -- bookkeeping -----------------------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh instance id: from the injected generator, else a deterministic counter."""
        if self.ids is not None:
            return self.ids()
        self.seq += 1
        return f"{self.id}.{self.seq}"

    def info(self, inst: ItemInstance) -> ItemInfo:
        """Definition facts of an instance."""
        return self.ix.items[inst.element]

    def stage_definition(self, inst: ItemInstance) -> str:
        """Id of the stage definition an instance of a stage (or the root) runs."""
        return self.ix.items[inst.element].definition.id

    def register(self, inst: ItemInstance) -> None:
        """Add an instance to the plain data and every derived index."""
        self.items[inst.id] = inst
        self.order[inst.id] = len(self.order)
        self.touched.add(inst.id)
        info = self.info(inst)
        if isinstance(info.definition, Stage):
            self.counts[inst.id] = {}
            self.required_pending[inst.id] = 0
            self.stages_by_def.setdefault(info.definition.id, []).append(inst.id)
        if inst.parent is None:
            self.depth[inst.id] = 0
        else:
            self.depth[inst.id] = self.depth[inst.parent] + 1
            self._index_state(inst, None, inst.state)
        if inst.due is not None and inst.state == "Available":
            heapq.heappush(self.timers, (dt.datetime.fromisoformat(inst.due), self.order[inst.id], inst.id))

    def _index_state(self, inst: ItemInstance, old: str | None, new: str) -> None:
        assert inst.parent is not None
        counts = self.counts[inst.parent]
        key = (inst.parent, inst.element)
        if old is not None:
            counts[old] -= 1
            self.by_state[old].pop(inst.id, None)
            if inst.required and old in _PENDING:
                self.required_pending[inst.parent] -= 1
            if old not in _LIVE_EXCLUDED and new in _LIVE_EXCLUDED:
                self.live[key].remove(inst.id)
        counts[new] = counts.get(new, 0) + 1
        self.by_state.setdefault(new, {})[inst.id] = None
        if inst.required and new in _PENDING:
            self.required_pending[inst.parent] += 1
        if new not in _LIVE_EXCLUDED and (old is None or old in _LIVE_EXCLUDED):
            self.live.setdefault(key, []).append(inst.id)
        if self.info(inst).kind in _LISTENER_KINDS:
            if new == "Available":
                self.listeners[inst.id] = None
            else:
                self.listeners.pop(inst.id, None)

    def _set_state(self, inst: ItemInstance, new: str) -> None:
        if inst.parent is not None:
            self._index_state(inst, inst.state, new)
        inst.state = new
        self.touched.add(inst.id)

    def emit(
        self,
        subject: EventSubject,
        instance: str,
        element: str,
        name: str,
        transition: str,
        old: str | None,
        new: str | None,
        cause: str | None,
        criterion: str | None = None,
        parent: str | None = None,
    ) -> None:
        """Record an event for the caller and queue it for sentries."""
        self.event_seq += 1
        event = TransitionEvent(
            self.event_seq,
            subject,
            instance,
            element,
            name,
            transition,
            old,
            new,
            self.now.isoformat(),
            cause,
            criterion,
            parent,
        )
        self.out.append(event)
        self.queue.append(event)

    # -- transitions -------------------------------------------------------------------------------

    def transition(
        self, inst: ItemInstance, transition: str, *, cause: str | None = "user", criterion: str | None = None
    ) -> None:
        """Apply one transition of the table to ``inst`` and its immediate consequences."""
        info = self.info(inst)
        is_root = inst.id == self.root
        kind = "case" if is_root else info.lifecycle
        old = inst.state
        new = next_state(kind, old, transition, item=f"{info.name} ({inst.id})", prior=inst.prior)
        if transition == "parentSuspend":
            inst.prior = old
        elif transition in ("parentResume", "resume", "reactivate"):
            inst.prior = None
        self._set_state(inst, new)
        self.emit(
            "case" if is_root else "planItem",
            inst.id,
            inst.element,
            info.name,
            transition,
            old,
            new,
            cause,
            criterion,
        )
        if inst.parent is not None:
            self.dirty.add(inst.parent)
        if isinstance(info.definition, Stage):
            self._stage_consequences(inst, transition, old, new)
        elif new == "Active" and transition in ("start", "manualStart") and not info.blocking:
            self.transition(inst, "complete", cause="nonBlocking")
            return
        elif new == "Available" and old == "Suspended" and inst.due is not None:
            heapq.heappush(self.timers, (dt.datetime.fromisoformat(inst.due), self.order[inst.id], inst.id))
        if transition in info.repeat_on and not is_root and not info.entry:
            self._repeat_without_entry(inst, info)

    def _stage_consequences(self, stage: ItemInstance, transition: str, old: str, new: str) -> None:
        if new == "Active" and transition in ("start", "manualStart"):
            self.start_children(stage)
        elif new == "Terminated":
            self._end_children(stage, include_active=True)
        elif new == "Completed":
            self._end_children(stage, include_active=False)
        elif new == "Suspended":
            for cid in list(stage.children):
                child = self.items[cid]
                if child.state in ("Available", "Enabled", "Disabled", "Active") and not (
                    self.info(child).lifecycle == "event" and child.state != "Available"
                ):
                    self.transition(child, "parentSuspend", cause="parent")
        elif new == "Active" and old == "Suspended":
            for cid in list(stage.children):
                child = self.items[cid]
                if child.state == "Suspended" and child.prior is not None:
                    self.transition(child, "parentResume", cause="parent")
            self.dirty.add(stage.id)

    def _end_children(self, stage: ItemInstance, *, include_active: bool) -> None:
        for cid in list(stage.children):
            child = self.items[cid]
            if is_done(child.state) and child.state != "Failed":
                continue
            if child.state in ("Failed", "Disabled") and not include_active:
                # Completion leaves children in a semi-terminal state as they are (CMMN 1.1
                # ch. 8 stage and task lifecycle: a stage completes when its children are Completed, Terminated,
                # Failed or Disabled; it does not transition them). Termination exits them.
                continue
            if self.info(child).lifecycle == "event":
                if child.state in ("Available", "Suspended"):
                    self.transition(child, "parentTerminate", cause="parent")
            elif include_active or child.state != "Active":
                self.transition(child, "exit", cause="parent")

    def start_children(self, stage: ItemInstance) -> None:
        """Create a newly active stage's children (all first, so siblings can see each other).

        They are born with their stage: their sentries hear the ``create`` of every sibling
        (Camunda SentryEntryCriteriaTest#testEnableByInstanceCreation) and of the stage itself
        (Flowable StageTest#testNestedRepeatingStageWithMultipleOnParts) while it is pending.
        """
        batch = min(self.event_seq, stage.born)
        if self.dispatching is not None:
            # started in reaction to an event: the new children hear that event too, as the
            # engines evaluate one event's consequences together (Flowable
            # EntryCriteriaTest#testNestedSentrySatisfiedInSameEvaluation); settle() replays it
            batch = min(batch, self.dispatching.seq - 1)
            self.replay = True
        created = [self.create(pid, stage) for pid in self.info(stage).children]
        for child in created:
            child.born = batch
        for child in created:
            self.initial(child)
        self.dirty.add(stage.id)

    def create(self, element: str, parent: ItemInstance, *, cause: str = "parent") -> ItemInstance:
        """Create an Available instance of ``element`` in ``parent`` (required rule evaluated now)."""
        info = self.ix.items[element]
        inst = ItemInstance(self.new_id(), element, parent.id, "Available", born=self.event_seq)
        rule = info.required_rule
        inst.required = self.ix.conditions.rule_holds(
            rule, self._rule_vars(rule, info, lambda: self._counter(element, parent, None)), absent=False,
            view=self.view,
        )
        parent.children.append(inst.id)
        self.touched.add(parent.id)
        self.register(inst)
        self.emit(
            "planItem", inst.id, element, info.name, "create", None, "Available", cause, parent=parent.id
        )
        self.dirty.add(parent.id)
        return inst

    def _rule_vars(
        self, rule: Any, info: ItemInfo | None = None, counter: Callable[[], int] | None = None
    ) -> Any:
        """Variables a rule reads: the case's (with its contextRef's properties on top) and,
        for a repeatable item whose rule reads it, the instance's repetition counter."""
        base = self.ix.context_variables(getattr(rule, "context_ref", None), self.variables)
        if info is None or info.counter is None or counter is None or rule is None:
            return base
        cond = self.ix.conditions.compile(rule.condition)
        if cond is None or info.counter not in cond.free_names:
            return base
        return {**base, info.counter: counter()}

    def _counter(self, element: str, parent: ItemInstance, upto: str | None) -> int:
        """1 for the first instance of ``element`` in ``parent``, 2 for the next …; ``upto``
        ``None`` numbers an instance about to be created."""
        n = 0
        for cid in parent.children:
            if self.items[cid].element == element:
                n += 1
                if cid == upto:
                    return n
        return n + 1

    def rule(self, info: ItemInfo, which: str, inst: ItemInstance | None = None) -> bool:
        """Whether the item's required / repetition / manual activation rule holds now (for
        ``inst``, whose repetition counter the rule may read)."""
        rule = getattr(info, which)
        counter = None
        if inst is not None and inst.parent is not None:
            parent = self.items[inst.parent]
            counter = lambda: self._counter(inst.element, parent, inst.id)  # noqa: E731
        return self.ix.conditions.rule_holds(rule, self._rule_vars(rule, info, counter), absent=False, view=self.view)

    def initial(self, inst: ItemInstance, *, evaluate: bool = True) -> None:
        """What a new instance does at once: start its timer, or enter without entry criteria, or
        arm (and with ``evaluate`` test) its if-part-only sentries."""
        info = self.info(inst)
        if inst.state != "Available":
            return
        definition = info.definition
        if (
            isinstance(definition, TimerEventListener)
            and definition.start_trigger is None
            and inst.due is None
        ):
            self.start_timer(inst)
        if sentries.initial_exit(self, inst, evaluate=evaluate) or inst.state != "Available":
            return
        if info.lifecycle == "event" and info.kind != "milestone":
            return
        if not info.entry:
            self.enter(inst, cause="auto", criterion=None)
        else:
            sentries.initial_entry(self, inst, evaluate=evaluate)

    def enter(self, inst: ItemInstance, *, cause: str, criterion: str | None) -> None:
        """An Available instance's entry is satisfied (or it has no entry criteria)."""
        info = self.info(inst)
        parent = self.items[inst.parent] if inst.parent is not None else None
        if info.entry and parent is not None and self.rule(info, "repetition_rule", inst):
            repeat = self.create(inst.element, parent, cause="repetition")
            self.initial(repeat, evaluate=False)
        if info.kind == "milestone":
            self.transition(inst, "occur", cause=cause, criterion=criterion)
        elif info.lifecycle == "work":
            manual = self.rule(info, "manual_rule", inst)
            self.transition(inst, "enable" if manual else "start", cause=cause, criterion=criterion)

    def _repeat_without_entry(self, inst: ItemInstance, info: ItemInfo) -> None:
        if info.kind in ("milestone", "timerEventListener") or inst.parent is None:
            return
        parent = self.items[inst.parent]
        if parent.state != "Active" or info.repetition_rule is None:
            return
        if not self.rule(info, "repetition_rule", inst):
            return
        repeat = self.create(inst.element, parent, cause="repetition")
        self.deferred.append(repeat.id)  # started from the settle loop: no unbounded recursion

    # -- timers ------------------------------------------------------------------------------------

    def _timer_text(self, inst: ItemInstance) -> str | None:
        definition = self.info(inst).definition
        assert isinstance(definition, TimerEventListener)
        expr = definition.timer_expression
        if expr is None or not expr.body.strip():
            raise DefinitionError(
                "timer event listener has no timerExpression", element=definition.id, line=_line(definition)
            )
        text = expr.body.strip()
        if text[:1] in ("P", "R", "-") or text[:1].isdigit():
            return text
        value = self.ix.conditions.compile(expr)
        result = evaluate(value, self.variables, self.view) if value is not None else None
        period = period_of(result)
        if period is not None:
            return f"PT{int(period[1].total_seconds())}S" if not period[0] else f"P{period[0]}M"
        if isinstance(result, dt.datetime):
            return result.isoformat()
        if isinstance(result, str) and result.strip():
            return result
        return None

    def start_timer(self, inst: ItemInstance) -> None:
        """Start counting: the due time is the case clock plus the timer expression.

        An expression that gives no duration or date-time (say ``${startTime}`` before the
        variable is set) leaves the listener Available without a due time: it never occurs
        by itself, and raising here would abandon an operation half applied.
        """
        text = self._timer_text(inst)
        if text is None:
            return
        try:
            schedule = parse_timer(text, self.now)
        except ValueError:
            return
        inst.due = schedule.first.isoformat()
        inst.repeats = schedule.repeats
        self.touched.add(inst.id)
        heapq.heappush(self.timers, (schedule.first, self.order[inst.id], inst.id))

    def next_timer(self, until: dt.datetime) -> ItemInstance | None:
        """Pop the earliest live timer due at or before ``until``."""
        while self.timers and self.timers[0][0] <= until:
            due, _, iid = heapq.heappop(self.timers)
            inst = self.items[iid]
            if inst.state == "Available" and inst.due == due.isoformat():
                self.now = max(self.now, due)
                return inst
        return None

    def fire_timer(self, inst: ItemInstance) -> None:
        """The timer occurs; a repeating interval (``R/…``) leaves its next occurrence waiting."""
        due = dt.datetime.fromisoformat(inst.due or self.now.isoformat())
        left = None if inst.repeats is None else inst.repeats - 1
        self.transition(inst, "occur", cause="timer")
        parent = self.items[inst.parent] if inst.parent is not None else None
        if (left is None or left > 0) and parent is not None and parent.state == "Active":
            text = self._timer_text(inst)
            try:
                period = None if text is None else parse_timer(text, self.now).period
            except ValueError:  # the expression's variables changed since the timer started
                period = None
            if period is not None:
                repeat = self.create(inst.element, parent, cause="timer")
                repeat.due = add_period(due, period).isoformat()
                repeat.repeats = left
                self.touched.add(repeat.id)
                heapq.heappush(
                    self.timers, (dt.datetime.fromisoformat(repeat.due), self.order[repeat.id], repeat.id)
                )
                self.initial(repeat)

    # -- the settle loop -----------------------------------------------------------------------

    def settle(self) -> None:
        """Dispatch queued events to sentries, then complete stages, until nothing changes."""
        steps = 0
        while True:
            if self.deferred:
                self.initial(self.items[self.deferred.popleft()])
            elif self.queue:
                self._dispatch(self.queue.popleft())
            elif self.dirty:
                sid = max(self.dirty, key=lambda s: (self.depth[s], s))
                self.dirty.discard(sid)
                self.check_completion(self.items[sid])
            else:
                return
            steps += 1
            if steps > MAX_STEPS:
                raise DefinitionError(
                    f"case {self.case.id!r} does not settle: more than {MAX_STEPS} reactions to one step "
                    "(a sentry or repetition rule that keeps firing?)"
                )

    def _dispatch(self, event: TransitionEvent) -> None:
        """Deliver ``event``; again while it created stage children that must hear it too
        (delivery is idempotent for everything that heard it before)."""
        self.dispatching = event
        try:
            for _ in range(MAX_STEPS):
                self.replay = False
                sentries.dispatch(self, event)
                if not self.replay:
                    return
        finally:
            self.dispatching = None
            self.replay = False

    def can_complete(self, stage: ItemInstance, *, manual: bool) -> bool:
        """The completion rule of a stage or the case plan model (CMMN 1.1 ch. 8 stage completion with
        ``autoComplete`` true or false; SCENARIOS.md, tests/cmmn/CONVENTIONS.md).

        * ``autoComplete`` true, and manual completion (``complete`` on the stage): no child Active
          and every *required* child Completed, Terminated, Failed or Disabled. (A Suspended child
          blocks too — a reading: the table names Active only, but ``resume`` makes it Active again.)
        * ``autoComplete`` false: no child Available, Enabled, Active or Suspended — all Completed,
          Terminated, Failed or Disabled.

        A **Failed** child does not hold a stage open (ch. 8 stage completion rule: Failed is among
        the states the table lets a required child be in; ch. 8 stage and task lifecycle: Failed is
        semi-terminal — left by ``reactivate``, which makes it Active and so blocking again, or by
        ``exit`` — and a child's ``fault`` is no transition of its stage). A model that must not
        complete over a failure makes that explicit with a *required* item reached only on the
        task's ``complete`` (a milestone), which is pending while the task is Failed. Pinned by
        tests/cmmn/runtime/test_ch8_failed_child_completion.py and test_ch8_parent_endings.py.
        """
        counts = self.counts[stage.id]
        running = counts.get("Active", 0) + counts.get("Suspended", 0)
        definition = self.info(stage).definition
        assert isinstance(definition, Stage)
        if manual or definition.auto_complete:
            return running == 0 and self.required_pending[stage.id] == 0
        return sum(counts.get(s, 0) for s in _OPEN) == 0

    def check_completion(self, stage: ItemInstance) -> None:
        """Complete an active stage (or the case) whose completion rule holds."""
        if stage.state == "Active" and self.can_complete(stage, manual=False):
            self.transition(stage, "complete", cause="autoComplete")

    # -- operations helpers ----------------------------------------------------------------------

    def run(self, action: Callable[[], None]) -> list[TransitionEvent]:
        """Run one operation and its consequences; return the events it caused."""
        self.out = []
        action()
        self.settle()
        out, self.out = self.out, []
        return out

    def require(self, inst: ItemInstance, transition: str, states: Iterable[str]) -> None:
        """Refuse ``transition`` unless ``inst`` is in one of ``states`` (with the table's wording)."""
        if inst.state not in tuple(states):
            info = self.info(inst)
            raise IllegalTransition(f"{info.name} ({inst.id})", inst.state, transition)


def _line(definition: Any) -> int | None:
    location = getattr(definition, "location", None)
    return getattr(location, "line", None)
