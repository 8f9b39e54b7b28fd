"""The consoles the toolkit prints to: tables to stdout, progress and notices to stderr."""

import sys

from rich.console import Console

WIDTH_WHEN_PIPED = 160


def _console(stream) -> Console:
    """A rich console that stays wide enough for tables when its stream is not a terminal."""
    return Console(file=stream, width=None if stream.isatty() else WIDTH_WHEN_PIPED)


console = _console(sys.stdout)
log = _console(sys.stderr)
