"""Registered zoos (see builtin.py for the built-in ones)."""
