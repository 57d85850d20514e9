"""`python -m ravyn_tutorial`: the terminal tutorial."""

from ravyn_tutorial.launch import main

if __name__ == "__main__":  # not when a worker process re-imports the main module
    main()
