"""``python -m curvedoc``."""

from curvedoc.cli import main

raise SystemExit(main())
