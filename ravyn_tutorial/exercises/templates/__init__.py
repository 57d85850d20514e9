"""The broken apps that `ravyn-tutorial start` copies into the working folder.

Each is a complete, runnable Ravyn app with one thing wrong; its docstring
says what it should do. They are package data, read with `importlib.resources`.
"""
