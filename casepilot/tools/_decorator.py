"""``@tool``: turn a typed function into a ``Tool`` without repeating its types.

The function takes one pydantic model (its arguments) and returns one (its result);
both are read from the annotations so they cannot drift apart from the code.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

from pydantic import BaseModel

from casepilot.errors import DefinitionError

from ._model import DEFAULT_RETRY, RetryPolicy, SideEffect, Tool

__all__ = ["tool"]


def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    side_effect: SideEffect = "read_only",
    timeout: float | None = 30.0,
    retry: RetryPolicy = DEFAULT_RETRY,
    tags: tuple[str, ...] = (),
    targets: tuple[str, ...] = (),
    message_fields: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Tool[Any, Any]]:
    """Decorate ``def f(args: ArgsModel) -> ResultModel`` (or ``async def``) to make a ``Tool``.

    ``name`` defaults to the function name, ``description`` to the first paragraph of its
    docstring (the planner reads it, so write it for a model choosing between tools).
    """

    def wrap(fn: Callable[..., Any]) -> Tool[Any, Any]:
        args_model, result_model = _models_of(fn)
        desc = description if description is not None else _first_paragraph(fn.__doc__)
        is_async = inspect.iscoroutinefunction(fn)
        return Tool(
            name=name or fn.__name__,
            description=desc,
            args_model=args_model,
            result_model=result_model,
            side_effect=side_effect,
            timeout=timeout,
            retry=retry,
            func=None if is_async else fn,
            afunc=fn if is_async else None,
            tags=tags,
            targets=targets,
            message_fields=message_fields,
        )

    return wrap


def _models_of(fn: Callable[..., Any]) -> tuple[type[BaseModel], type[BaseModel]]:
    where = getattr(fn, "__qualname__", repr(fn))
    hints = get_type_hints(fn)
    params = list(inspect.signature(fn).parameters)
    if len(params) != 1:
        raise DefinitionError(f"@tool function {where} must take exactly one argument (a pydantic model)")
    args_model = hints.get(params[0])
    result_model = hints.get("return")
    problems = [
        DefinitionError(f"{label} of {where} must be annotated with a pydantic BaseModel subclass")
        for label, model in (("the argument", args_model), ("the return type", result_model))
        if not (isinstance(model, type) and issubclass(model, BaseModel))
    ]
    if problems:
        raise DefinitionError(f"cannot make a tool of {where}", problems=problems)
    assert isinstance(args_model, type) and isinstance(result_model, type)
    return args_model, result_model


def _first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    return " ".join(inspect.cleandoc(doc).split("\n\n", 1)[0].split())
