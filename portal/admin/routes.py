"""Administration pages (filled in below)."""

ADMIN_ROUTES: list = []
