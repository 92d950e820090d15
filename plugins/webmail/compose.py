"""Compose, send, drafts and send status pages (being built)."""

COMPOSE_ROUTES: list = []
