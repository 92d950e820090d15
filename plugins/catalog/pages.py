"""What every catalog page needs: the labels of stored codes, the refusal page, small parsers."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, Response

from plugins.catalog import vocabulary
from plugins.catalog.errors import CatalogError
from plugins.catalog.tables import Classification
from portal.i18n import gettext as _
from portal.localtime import local
from portal.web import render

READ = "catalog.read"


async def page(request: Request, template: str, *, status_code: int = 200, fragment: str | None = None, **context) -> Response:
    return await render(request, template, status_code=status_code, fragment=fragment, labels=vocabulary.labels(),
                        field_labels=field_labels(), when=when, **context)


def when(moment: datetime | None) -> str:
    """An aware moment as Beijing time, to the minute (empty for None)."""
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


async def refusal(request: Request, error: CatalogError, back: str = "/catalog") -> Response:
    """The refusal with its reason and a way back."""
    return await page(request, "catalog/error.html", status_code=error.status_code, message=error.message, back=back)


def as_int(value) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def field_labels() -> dict[str, str]:
    """The name of each field of a resource as the pages (and comparisons) show it."""
    return {
        "code": _("Resource code"), "name": _("Resource name"), "classification": _("Catalog classification"),
        "basic_classification": _("Place in the basic catalog"), "thematic_classification": _("Place in the thematic catalog"),
        "provider": _("Provider"), "provider_code": _("Provider code"), "abstract": _("Abstract"),
        "format": _("Format"), "format_detail": _("Format details"), "share_type": _("Share type"),
        "share_conditions": _("Share conditions"), "share_method": _("Share method"), "open_type": _("Open to the public"),
        "open_conditions": _("Open conditions"), "update_cycle": _("Update cycle"), "published_on": _("Publication date"),
        "related_codes": _("Related resources"), "secrecy": _("Classification level"), "items": _("Data items"),
        "items.order": _("Order of the data items"),
    }


async def classification_choices() -> list[dict]:
    """Every classification node in code order, for the select lists (a retired one is shown
    only where it is already chosen)."""
    return await Classification.select(Classification.id, Classification.code, Classification.name, Classification.tree,
                                       Classification.level, Classification.retired).order_by(Classification.code)


async def classification_names() -> dict[str, str]:
    return {r["code"]: r["name"] for r in await Classification.select(Classification.code, Classification.name)}
