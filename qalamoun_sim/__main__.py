"""``python -m qalamoun_sim``: the command line."""

from .cli import main

raise SystemExit(main())
