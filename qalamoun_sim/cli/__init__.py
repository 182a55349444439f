"""Layer 8, the command line: the only modules that parse arguments, print to the terminal or choose an exit status.

``main`` is the console script ``qalamoun-sim``; each family of sub-commands is a module (``run``,
``claim``, ``basic``, ``analysis``) with a ``register(sub)``; :mod:`.common` holds what they share.
"""

from __future__ import annotations

from .claim import format_claim
from .common import EXIT_BAD_INPUT
from .main import FAMILIES, build_parser, main

__all__ = ["main", "build_parser", "format_claim", "EXIT_BAD_INPUT", "FAMILIES"]
