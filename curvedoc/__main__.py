"""``python -m curvedoc``."""

from curvedoc.cli import run

run()
