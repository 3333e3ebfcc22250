"""Typed start forms: the variables a definition declares (``start: {required: {name: type}}`` in its
manifest) become fields of their type — text, number, whole number, yes/no, JSON for objects and
lists — checked on the server, each problem shown next to its field.

The JSON box stays for what is not declared; a declared field's value wins over the same name
in the box. Field names carry the definition key (``field.<key>.<name>``), so a page offering
several definitions sends only the chosen one's fields to it.

A human task's declared fields (``human_tasks: {Task: {fields: …}}``) are form fields the same
way (``task_fields``), named after the inbox item (``field.<task id>.<name>``), with two more
types — ``date`` and ``choice`` — and optional fields a person may leave empty.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from casepilot.agent.manifest import TaskFieldSpec

__all__ = ["TYPE_WORDS", "FormField", "fields_of", "read_fields", "task_fields"]

_INPUTS = {"string": "text", "number": "number", "integer": "number", "boolean": "select",
           "object": "json", "array": "json", "any": "json", "date": "date", "choice": "choice"}
TYPE_WORDS = {"string": "text", "number": "number", "integer": "whole number", "boolean": "yes or no",
              "object": "JSON object", "array": "JSON list", "any": "JSON value", "date": "date", "choice": "choose one"}
"""How a field's type reads beside its label."""


@dataclass(frozen=True, slots=True)
class FormField:
    """One declared variable as a form field."""

    definition: str
    """What the field belongs to: a definition key (start forms) or an inbox item's id (task forms)."""
    name: str
    type: str
    """The declared type (``string``, ``number``, ``integer``, ``boolean``, ``object``, ``array``,
    ``any``; a task's fields also ``date`` and ``choice``)."""
    required: bool = True
    enum: tuple[str, ...] = ()
    """A ``choice`` field's values."""
    label: str = ""
    """What the form calls it (default: the name)."""

    @property
    def input(self) -> str:
        """How it is entered: ``text``, ``number``, ``select`` (yes/no), ``date``, ``choice`` or ``json``."""
        return _INPUTS.get(self.type, "json")

    @property
    def title(self) -> str:
        return self.label or self.name

    @property
    def dom_id(self) -> str:
        """The input's element id (the key with ``-`` for ``.``)."""
        return self.key.replace(".", "-")

    @property
    def key(self) -> str:
        return f"field.{self.definition}.{self.name}"


def fields_of(declared: Mapping[str, Mapping[str, str]]) -> dict[str, list[FormField]]:
    """Definition key -> its start fields, in the manifest's order."""
    return {key: [FormField(key, name, kind) for name, kind in required.items()]
            for key, required in declared.items() if required}


def task_fields(task_id: str, declared: Mapping[str, TaskFieldSpec]) -> list[FormField]:
    """A human task's declared fields as form fields of its inbox item, in the manifest's order."""
    return [FormField(task_id, name, spec.type, spec.required, spec.enum or (), spec.label or "")
            for name, spec in declared.items()]


def _value(field: FormField, text: str) -> tuple[Any, str | None]:
    """The typed value of ``text`` and None, or None and what is wrong with it (in words)."""
    if field.type == "string":
        return text, None
    if field.type == "date":
        try:
            day = dt.date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            day = None
        return (day.isoformat(), None) if day is not None else (None, "enter a date, e.g. 2026-12-31")
    if field.type == "choice":
        return (text, None) if text in field.enum else (None, f"choose one of {', '.join(field.enum)}")
    if field.type in ("number", "integer"):
        try:
            number = float(text)
        except ValueError:
            return None, "enter a number, e.g. 800 or 12.5"
        if not math.isfinite(number):
            return None, "enter a finite number"
        if field.type == "integer":
            if not number.is_integer():
                return None, "enter a whole number"
            return int(number), None
        return (int(number) if number.is_integer() and "." not in text else number), None
    if field.type == "boolean":
        if text in ("yes", "no"):
            return text == "yes", None
        return None, "choose yes or no"
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    if field.type == "object" and not isinstance(parsed, dict):
        return None, 'enter a JSON object, e.g. {"amount": 800}'
    if field.type == "array" and not isinstance(parsed, list):
        return None, "enter a JSON list, e.g. [1, 2]"
    return parsed, None


def read_fields(fields: list[FormField], form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed values of a submitted form and, per field name, what is wrong (empty when all is fine)."""
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for field in fields:
        raw = form.get(field.key)
        text = raw.strip() if isinstance(raw, str) else ""
        if not text:
            if field.required:
                problems[field.name] = "required"
            continue
        value, problem = _value(field, text)
        if problem is not None:
            problems[field.name] = problem
        else:
            values[field.name] = value
    return values, problems
