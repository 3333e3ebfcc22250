"""The typed values a person enters with a human task's decision, checked against the task's
declaration (``human_tasks: {Task: {fields: {name: {type: …}}}}`` in the manifest).

Checked twice on purpose: by the API and the page before deciding (so a person sees every
problem at once, next to its field) and again where the values are written into the case file
(``_inbox.complete_human_task``), so no path into a case — the CLI, a chat, a future client —
writes a value of the wrong type or leaves out a required one. ``InvalidTaskValues`` is a
``DefinitionError``-kind refusal like ``InvalidStartVariables``: the HTTP API answers 422 with
the problems listed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

from casepilot.agent.manifest import TaskFieldSpec
from casepilot.errors import DefinitionError

__all__ = ["InvalidTaskValues", "check_task_values", "task_value_problems"]


class InvalidTaskValues(DefinitionError):
    """A decision's values do not match the fields its human task declares; ``problems`` lists each."""


def _problem(spec: TaskFieldSpec, value: Any) -> tuple[Any, str | None]:
    """The value as the case file keeps it and None, or None and what is wrong (in words)."""
    kind = spec.type
    if kind == "string":
        return (value, None) if isinstance(value, str) else (None, "must be text")
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (None, "must be true or false")
    if kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, f"must be {'a whole number' if kind == 'integer' else 'a number'}"
        if isinstance(value, float) and not math.isfinite(value):
            return None, "must be a finite number"
        if kind == "integer":
            if isinstance(value, float) and not value.is_integer():
                return None, "must be a whole number"
            return int(value), None
        return value, None
    if kind == "date":
        if not isinstance(value, str) or len(value) != 10:
            return None, "must be a date written YYYY-MM-DD"
        try:
            return dt.date.fromisoformat(value).isoformat(), None
        except ValueError:
            return None, "must be a date written YYYY-MM-DD"
    options = spec.enum or ()
    if not isinstance(value, str) or value not in options:
        return None, f"must be one of {', '.join(options)}"
    return value, None


def task_value_problems(fields: Mapping[str, TaskFieldSpec],
                        values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The values as the case file keeps them, and per field name what is wrong (empty: fine).

    A missing or null value of a required field is a problem; of an optional one it is left
    out. A name the task does not declare is a problem too (a typo would otherwise be lost).
    """
    typed: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for name in values:
        if name not in fields:
            problems[name] = (f"not a field of this task (its fields: {', '.join(fields)})" if fields
                              else "this task declares no fields")
    for name, spec in fields.items():
        value = values.get(name)
        if value is None or value == "":
            if spec.required:
                problems[name] = f"required ({spec.type})"
            continue
        kept, problem = _problem(spec, value)
        if problem is not None:
            problems[name] = problem
        else:
            typed[name] = kept
    return typed, problems


def check_task_values(task: str, fields: Mapping[str, TaskFieldSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """The checked values, or ``InvalidTaskValues`` listing every problem."""
    typed, problems = task_value_problems(fields, values)
    if problems:
        raise InvalidTaskValues(
            f"the decision on {task!r} cannot be recorded: {len(problems)} problem(s) with its fields",
            problems=[DefinitionError(f"{name}: {problem}") for name, problem in problems.items()])
    return typed
