"""`python -m ravyn.tutorial`: the terminal tutorial."""

from ravyn.tutorial.cli import main

main()
