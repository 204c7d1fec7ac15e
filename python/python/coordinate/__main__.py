"""``python -m coordinate``: the command line (see :mod:`coordinate.cli`)."""

from __future__ import annotations

if __name__ == "__main__":
    import sys

    from .cli import main

    sys.exit(main())
