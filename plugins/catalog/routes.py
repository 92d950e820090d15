from litestar import Request, Response, get

from plugins.catalog.tables import Resource
from portal.web import permission_required, render


@get("/", guards=[permission_required("catalog.read")])
async def catalog_index(request: Request) -> Response:
    rows = await Resource.select(Resource.code, Resource.name, Resource.share_type,
                                 Resource.department.name.as_alias("department_name")).order_by(Resource.code).limit(100)
    return await render(request, "catalog/index.html", resources=rows)


ROUTES = [catalog_index]
