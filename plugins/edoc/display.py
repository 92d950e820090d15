"""Small helpers the plugin's pages share."""

from __future__ import annotations

from datetime import datetime

from portal.localtime import local


def when(moment: datetime | None) -> str:
    """An aware moment as Beijing time, to the minute (empty for None)."""
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
