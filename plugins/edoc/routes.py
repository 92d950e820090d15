from litestar import Request, Response, get

from plugins.edoc.tables import Document
from portal.web import current_user, permission_required, render


@get("/", guards=[permission_required("edoc.draft")])
async def documents(request: Request) -> Response:
    user = current_user(request)
    rows = await Document.select().where(Document.drafter == user.id).order_by(Document.created_at, ascending=False).limit(50)
    return await render(request, "edoc/index.html", documents=rows)


ROUTES = [documents]
