"""What the plugin's pages share: rendering with the helpers its templates use."""

from __future__ import annotations

from datetime import date, datetime

from litestar import Request, Response

from portal.localtime import local
from portal.web import render


def day(moment: datetime | date | None) -> str:
    """A date, or an aware moment's Beijing date, as YYYY-MM-DD (empty for None)."""
    if moment is None:
        return ""
    return (local(moment).date() if isinstance(moment, datetime) else moment).isoformat()


def when(moment: datetime | None) -> str:
    """An aware moment as Beijing time, to the minute (empty for None)."""
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def size(count: int) -> str:
    """A file size as people read it: 980 B, 12.5 KB, 3.2 MB."""
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / 1024 / 1024:.1f} MB"


async def page(request: Request, template: str, *, status_code: int = 200, **context) -> Response:
    return await render(request, template, status_code=status_code, day=day, when=when, size=size, **context)
