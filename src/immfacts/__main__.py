"""``python -m immfacts`` runs the command-line interface."""

from immfacts.cli import main

main()
