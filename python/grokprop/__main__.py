"""``python -m grokprop`` runs the command line."""

from .cli import main

main()
