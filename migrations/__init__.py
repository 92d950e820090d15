"""Piccolo migrations of the built-in apps, one folder per app."""
