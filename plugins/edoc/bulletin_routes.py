"""Pages of the notices (通知公告) and the departments' work news (工作动态) (DOC-13)."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException

from plugins.edoc import bulletins
from plugins.edoc.bulletins import BulletinForm, BulletinRefused, NotAllowed
from plugins.edoc.display import when
from portal.i18n import gettext as _
from portal.web import current_user, login_required, portal_of, redirect, render

GUARDS = [login_required]


def _kind(value: str) -> str:
    if value not in bulletins.KINDS:
        raise NotFoundException()
    return value


def _heading(kind: str) -> str:
    return _("Notices and announcements") if kind == "notice" else _("Work news")


def _may_post(user, kind: str) -> bool:
    return bulletins.may_post_notices(user) if kind == "notice" else bulletins.may_post_news(user)


async def _list(request: Request, kind: str) -> Response:
    user = current_user(request)
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    rows = await bulletins.latest(user.unit_id, kind, limit=bulletins.PAGE_SIZE + 1, offset=(page - 1) * bulletins.PAGE_SIZE)
    return await render(request, "edoc/bulletins.html", kind=kind, heading=_heading(kind), items=rows[:bulletins.PAGE_SIZE],
                        page=page, more=len(rows) > bulletins.PAGE_SIZE, may_post=_may_post(user, kind), when=when)


@get("/notices", guards=GUARDS, name="edoc:notices")
async def notices(request: Request) -> Response:
    return await _list(request, "notice")


@get("/news", guards=GUARDS, name="edoc:news")
async def news(request: Request) -> Response:
    return await _list(request, "news")


async def _visible(request: Request, bulletin_id: int) -> dict:
    bulletin = await bulletins.get(bulletin_id)
    if bulletin is None or bulletin["unit"] != current_user(request).unit_id:
        raise NotFoundException()
    return bulletin


@get("/bulletins/{bulletin_id:int}", guards=GUARDS, name="edoc:bulletin")
async def bulletin_page(request: Request, bulletin_id: int) -> Response:
    bulletin = await _visible(request, bulletin_id)
    return await render(request, "edoc/bulletin.html", bulletin=bulletin, heading=_heading(bulletin["kind"]),
                        may_edit=bulletins.may_edit(current_user(request), bulletin), when=when)


async def _form(request: Request, kind: str, values: dict, *, bulletin_id: int | None = None, error: str | None = None,
                status_code: int = 200) -> Response:
    user = current_user(request)
    department = await bulletins.department_name(user.department_id) if kind == "news" else ""
    return await render(request, "edoc/bulletin_form.html", status_code=status_code, kind=kind, heading=_heading(kind),
                        values=values, bulletin_id=bulletin_id, error=error, department=department,
                        max_title=bulletins.MAX_TITLE, max_body=bulletins.MAX_BODY)


async def _read(request: Request) -> tuple[dict, BulletinForm]:
    form = await request.form()
    values = {"title": str(form.get("title", "")), "body": str(form.get("body", "")), "kind": str(form.get("kind", ""))}
    return values, BulletinForm(values["title"], values["body"])


@get("/bulletins/new", guards=GUARDS, name="edoc:bulletin_new")
async def bulletin_new(request: Request) -> Response:
    kind = _kind(request.query_params.get("kind", "news"))
    if not _may_post(current_user(request), kind):
        raise PermissionDeniedException()
    return await _form(request, kind, {"title": "", "body": ""})


@post("/bulletins", guards=GUARDS, name="edoc:bulletin_post")
async def bulletin_post(request: Request) -> Response:
    values, form = await _read(request)
    kind = _kind(values["kind"])
    try:
        bulletin_id = await bulletins.post(portal_of(request), current_user(request), kind, form)
    except NotAllowed:
        raise PermissionDeniedException() from None
    except BulletinRefused as refused:
        return await _form(request, kind, values, error=str(refused), status_code=400)
    return redirect(f"/edoc/bulletins/{bulletin_id}")


@get("/bulletins/{bulletin_id:int}/edit", guards=GUARDS, name="edoc:bulletin_edit")
async def bulletin_edit(request: Request, bulletin_id: int) -> Response:
    bulletin = await _visible(request, bulletin_id)
    if not bulletins.may_edit(current_user(request), bulletin):
        raise PermissionDeniedException()
    return await _form(request, bulletin["kind"], bulletin, bulletin_id=bulletin_id)


@post("/bulletins/{bulletin_id:int}/edit", guards=GUARDS, name="edoc:bulletin_save")
async def bulletin_save(request: Request, bulletin_id: int) -> Response:
    bulletin = await _visible(request, bulletin_id)
    values, form = await _read(request)
    try:
        await bulletins.edit(portal_of(request), current_user(request), bulletin_id, form)
    except NotAllowed:
        raise PermissionDeniedException() from None
    except BulletinRefused as refused:
        return await _form(request, bulletin["kind"], values, bulletin_id=bulletin_id, error=str(refused), status_code=400)
    return redirect(f"/edoc/bulletins/{bulletin_id}")


BULLETIN_ROUTES = [notices, news, bulletin_page, bulletin_new, bulletin_post, bulletin_edit, bulletin_save]
