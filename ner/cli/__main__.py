"""Run the `ner` command as `python -m ner.cli`."""

import sys

from ner.cli import main

if __name__ == "__main__":
    sys.exit(main())
