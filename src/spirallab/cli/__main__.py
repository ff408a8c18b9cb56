"""``python -m spirallab.cli``: the same as the ``spirallab`` command."""

from spirallab.cli import main

main()
