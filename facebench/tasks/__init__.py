"""Registered tasks (see builtin.py for the built-in ones)."""
