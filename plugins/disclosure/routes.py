from litestar import Request, Response, get

from plugins.disclosure.tables import Category
from portal.web import render


@get("/")
async def public_index(request: Request) -> Response:
    """Public, no login (PUB-1)."""
    categories = await Category.select(Category.name, Category.unit.name.as_alias("unit_name")).order_by(Category.position)
    return await render(request, "disclosure/index.html", categories=categories)


ROUTES = [public_index]
