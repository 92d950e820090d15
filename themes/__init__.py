"""Themes: each folder holds theme.toml, and optionally templates/ and static/ overrides."""
