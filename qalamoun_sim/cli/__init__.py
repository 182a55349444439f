"""Layer 8, the command line: the only modules that parse arguments, print to the terminal or choose an exit status.

``main`` is the console script ``qalamoun-sim``; each family of sub-commands is a module (``run``,
``claim``, ``basic``, ``analysis``) with a ``register(sub)``; :mod:`.common` holds what they share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .common import EXIT_BAD_INPUT
from .main import build_parser, main

if TYPE_CHECKING:  # pragma: no cover
    from .claim import format_claim
    from .main import FAMILIES

__all__ = ["main", "build_parser", "format_claim", "EXIT_BAD_INPUT", "FAMILIES"]

# a command imports its own family's module only (cli.main.COMMANDS)
__getattr__, __dir__ = lazy_exports(__name__, {"format_claim": "claim", "FAMILIES": "main"}, globals())
