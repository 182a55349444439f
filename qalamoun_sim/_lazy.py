"""Lazy re-exports for a package face (PEP 562): a public name's module is imported on first use.

A face that imported its modules eagerly would make every import of one of its modules load them
all (Python runs a package's ``__init__`` before any of its modules): ``analysis.claim`` would load
SimPy and pandas through ``analysis.critical``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, names: dict[str, str], namespace: dict[str, Any]) -> tuple[
        Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``names`` maps each public name to its module
    (relative to ``package``, or absolute when it starts with the top package's name); a name, once
    imported, is kept in ``namespace`` (the face's globals).

    >>> ga, _ = lazy_exports("json", {"JSONDecoder": "decoder"}, {})
    >>> ga("JSONDecoder").__name__
    'JSONDecoder'
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        top = package.split(".")[0]
        path = module if module.split(".")[0] == top else f"{package}.{module}"
        value = getattr(importlib.import_module(path), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
