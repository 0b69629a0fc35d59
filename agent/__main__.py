"""``python -m agent`` runs the civicwatch command line."""

from agent.cli import main

main()
