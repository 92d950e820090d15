from litestar import Request, Response, get, post

from portal.web import current_user, permission_required, portal_of, redirect, render
from portal_sample import services

GUARDS = [permission_required("sample.use")]


@get("/", name="sample:index", guards=GUARDS)
async def index(request: Request) -> Response:
    user = current_user(request)
    return await render(request, "sample/index.html", notes=await services.notes_of(user), error=None)


@post("/notes", name="sample:add", guards=GUARDS)
async def add(request: Request) -> Response:
    """A plain form POST (CSRF-checked by the core), then a redirect back to the page."""
    user = current_user(request)
    form = await request.form()
    text = form.get("text")
    try:
        await services.add_note(user, text if isinstance(text, str) else "")
    except services.InvalidNote:
        notes = await services.notes_of(user)
        return await render(request, "sample/index.html", status_code=400, notes=notes,
                            error=portal_of(request).gettext("Write a note of at most 500 characters."))
    return redirect("/sample")


ROUTES = [index, add]
