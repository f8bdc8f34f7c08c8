"""``python -m simkit.cli``: the ``simkit`` command."""

from simkit.cli.app import main

main()
