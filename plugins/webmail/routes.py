from litestar import Request, Response, get

from plugins.webmail.services import mailbox_of
from portal.web import current_user, permission_required, render


@get("/", guards=[permission_required("webmail.use")])
async def inbox(request: Request) -> Response:
    user = current_user(request)
    return await render(request, "webmail/index.html", mailbox=await mailbox_of(user))


ROUTES = [inbox]
