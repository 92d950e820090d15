"""Pages of requests for disclosure (PUB-3), under /disclosure/requests.

Public, no login: the form to file a request (with a human check, a field robots fill in, and
the ``submit`` rate limit per address), the page showing the number and code once, and
tracking by number and code (``lookup`` rate limit). A browser that gave the right code may
look at that request for ``TRACK_SECONDS`` without typing it again; nothing else opens it.

Staff of the unit asked (``disclosure.requests``): the queue, a request with its actions, the
overdue report.
"""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import quote

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import File

from plugins.disclosure import human_check, request_files, request_reports, requests
from plugins.disclosure.request_deadlines import SUPPLEMENT_DAYS, SUPPLEMENT_MAX_DAYS, deadline, may_ask_supplement, may_extend
from plugins.disclosure.request_fields import (
    ID_KINDS,
    LIMITS,
    RequestForm,
    applicant_kind_labels,
    delivery_labels,
    field_errors,
    id_kind_labels,
)
from portal.i18n import get_locale
from portal.i18n import gettext as _
from portal.localtime import local, today
from portal.web import (
    client_ip,
    csrf_token,
    current_user,
    permission_required,
    portal_of,
    rate_limited,
    redirect,
    render,
)
from portal.workdays import calendar_knows

TRACK_KEY = "disclosure_tracked"
FLASH_KEY = "disclosure_flash"
# How long a browser that gave the right code may look at the request again.
TRACK_SECONDS = 30 * 60
TRACK_KEEP = 5
# The honeypot: a field people never see; robots filling every field fill it.
HONEYPOT = "website"
STAFF = [permission_required(requests.PERMISSION)]
BODY_LIMIT = request_files.MAX_BYTES + 64 * 1024
BASE = "/disclosure/requests"


async def _no_store(response: Response) -> Response:
    """Pages with a code, a question for one answer, or an applicant's data: kept by no cache."""
    response.headers["cache-control"] = "no-store"
    return response


def _page_number(request: Request) -> int:
    value = request.query_params.get("page", "1")
    return max(1, int(value)) if value.isascii() and value.isdigit() and len(value) < 6 else 1


def when(moment: datetime | None) -> str:
    """An aware moment as Beijing time, to the minute."""
    return local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _flash(request: Request, message: str) -> None:
    request.session[FLASH_KEY] = message


def _pop_flash(request: Request) -> str | None:
    session = request.scope.get("session")
    return session.pop(FLASH_KEY, None) if isinstance(session, dict) else None


# The public ------------------------------------------------------------------------------------


@get("/requests", name="disclosure:requests")
async def requests_home(request: Request) -> Response:
    user = current_user(request)
    return await render(request, "disclosure/requests/index.html", staff=bool(user and requests.unit_of(user)))


async def _form_page(request: Request, form: RequestForm, *, errors: dict[str, str] | None = None, error: str | None = None,
                     status_code: int = 200) -> Response:
    portal = portal_of(request)
    challenge = human_check.issue(portal.settings.secret_key, csrf_token(request), get_locale())
    return await render(request, "disclosure/requests/new.html", status_code=status_code, form=form, errors=errors or {},
                        error=error, units=await requests.askable_units(), challenge=challenge,
                        applicant_kinds=applicant_kind_labels(), id_kinds=id_kind_labels(), id_kinds_of=ID_KINDS,
                        deliveries=delivery_labels(), limits={**LIMITS, "answer": human_check.MAX_ANSWER}, honeypot=HONEYPOT)


@get("/requests/new", name="disclosure:request_new", after_request=_no_store)
async def request_new(request: Request) -> Response:
    return await _form_page(request, RequestForm(unit=request.query_params.get("unit", "")[:10]))


@post("/requests/new", name="disclosure:request_file", after_request=_no_store, opt=rate_limited("submit"))
async def request_file(request: Request) -> Response:
    portal = portal_of(request)
    posted = await request.form()
    form = RequestForm.from_form(posted)
    if posted.get(HONEYPOT):
        return await _form_page(request, form, error=_("The request could not be accepted. Check the form and send it again."),
                                status_code=400)
    unit_names = {u["id"]: u["name"] for u in await requests.askable_units()}
    errors = field_errors(form, unit_names)
    if errors:
        return await _form_page(request, form, errors=errors, status_code=400,
                                error=_("Some fields need your attention; they are marked below. Nothing was sent yet."))
    try:
        await human_check.verify(portal.settings.secret_key, csrf_token(request), str(posted.get("check_token", "")),
                                 str(posted.get("check_answer", "")))
    except human_check.CheckFailed as failed:
        return await _form_page(request, form, errors={"check_answer": str(failed)}, status_code=400, error=str(failed))
    filed = await requests.file_request(portal, form, ip=client_ip(request))
    _remember(request, filed.number)
    return await render(request, "disclosure/requests/filed.html", filed=filed, code=requests.display_code(filed.code),
                        unit_name=unit_names[form.unit_id])


def _tracked_numbers(request: Request) -> dict[str, float]:
    session = request.scope.get("session")
    kept = session.get(TRACK_KEY) if isinstance(session, dict) else None
    return {n: t for n, t in (kept or {}).items() if isinstance(t, (int, float)) and t > time.time()}


def _remember(request: Request, number: str) -> None:
    kept = _tracked_numbers(request)
    kept[number] = time.time() + TRACK_SECONDS
    request.session[TRACK_KEY] = dict(sorted(kept.items(), key=lambda item: item[1])[-TRACK_KEEP:])


@get("/requests/track", name="disclosure:track", after_request=_no_store)
async def track_page(request: Request) -> Response:
    return await render(request, "disclosure/requests/track.html", number=request.query_params.get("number", "")[:40],
                        error=None)


@post("/requests/track", name="disclosure:track_lookup", after_request=_no_store, opt=rate_limited("lookup"))
async def track_lookup(request: Request) -> Response:
    posted = await request.form()
    typed = str(posted.get("number", ""))[:40].strip()
    number, code = requests.normalise_number(typed), requests.normalise_code(str(posted.get("code", "")))
    if not await requests.check_code(number, code):
        # One message whether the number exists or not: the form tells nothing about others' requests.
        return await render(request, "disclosure/requests/track.html", status_code=400, number=typed,
                            error=_("No request matches this number and code. Check both and try again."))
    _remember(request, number)
    return redirect(f"{BASE}/track/{number}")


async def _tracked_or_ask(request: Request, number: FromPath[str]) -> dict | None:
    if number not in _tracked_numbers(request):
        return None
    return await requests.tracked(number)


async def _tracked_view(request: Request, row: dict, *, error: str | None = None, supplement: str = "",
                        status_code: int = 200) -> Response:
    return await render(request, "disclosure/requests/tracked.html", status_code=status_code, row=row, error=error,
                        supplement=supplement, flash=_pop_flash(request), decisions=requests.decision_labels(), when=when,
                        statuses=requests.status_labels(), deliveries=delivery_labels(), max_reason=requests.MAX_REASON,
                        deadline=deadline(row["due_on"], today()) if row["status"] == "open" else None,
                        calendar_known=calendar_knows(row["due_on"].year))


@get("/requests/track/{number:str}", name="disclosure:tracked", after_request=_no_store)
async def tracked_page(request: Request, number: FromPath[str]) -> Response:
    row = await _tracked_or_ask(request, number)
    if row is None:
        return redirect(f"{BASE}/track?number={quote(number[:40], safe='')}")
    return await _tracked_view(request, row)


@post("/requests/track/{number:str}/supplement", name="disclosure:tracked_supplement", after_request=_no_store,
      opt=rate_limited("submit"))
async def tracked_supplement(request: Request, number: FromPath[str]) -> Response:
    """The applicant adds the details the unit asked for (补正)."""
    row = await _tracked_or_ask(request, number)
    if row is None:
        raise NotFoundException()
    text = str((await request.form()).get("supplement", ""))
    try:
        await requests.add_supplement(portal_of(request), number, text, ip=client_ip(request))
    except requests.RequestRefused as refused:
        return await _tracked_view(request, row, error=str(refused), supplement=text, status_code=400)
    _flash(request, _("Your details were sent. The unit answers within 20 working days from today."))
    return redirect(f"{BASE}/track/{number}")


@post("/requests/track/{number:str}/forget", name="disclosure:track_forget")
async def track_forget(request: Request, number: FromPath[str]) -> Response:
    kept = _tracked_numbers(request)
    kept.pop(number, None)
    request.session[TRACK_KEY] = kept
    return redirect(f"{BASE}/track")


def _download(request: Request, row: dict) -> File:
    if not row or not row["attachment_sha256"]:
        raise NotFoundException()
    path = request_files.path_of(portal_of(request).settings.data_dir, row["attachment_sha256"])
    return File(path=path, filename=row["attachment_name"], media_type="application/octet-stream",
                content_disposition_type="attachment", headers={"cache-control": "no-store"})


@get("/requests/track/{number:str}/attachment", name="disclosure:tracked_attachment")
async def tracked_attachment(request: Request, number: FromPath[str]) -> File:
    row = await _tracked_or_ask(request, number)
    if row is None:
        raise NotFoundException()
    return _download(request, row)


# The unit's staff ------------------------------------------------------------------------------


@get("/requests/manage", name="disclosure:queue", guards=STAFF, after_request=_no_store)
async def queue_page(request: Request) -> Response:
    user, day = current_user(request), today()
    view = request.query_params.get("view", "open")
    view = view if view in requests.VIEWS else "open"
    page = _page_number(request)
    rows, more = await requests.queue(user, view, day, page)
    return await render(request, "disclosure/requests/queue.html", rows=rows, more=more, page=page, view=view,
                        counts=await requests.open_counts(requests.unit_of(user), day), statuses=requests.status_labels(),
                        decisions=requests.decision_labels(), flash=_pop_flash(request), has_unit=requests.unit_of(user) is not None)


async def _detail(request: Request, request_id: int, *, error: str | None = None, status_code: int = 200,
                  values: dict | None = None) -> Response:
    user, day = current_user(request), today()
    try:
        row = await requests.request_for(user, request_id)
    except requests.NotFound:
        raise NotFoundException() from None
    return await render(request, "disclosure/requests/detail.html", status_code=status_code, row=row, error=error,
                        values=values or {}, flash=_pop_flash(request), decisions=requests.decision_labels(),
                        without_reason=requests.DECISIONS_WITHOUT_REASON, statuses=requests.status_labels(),
                        deliveries=delivery_labels(), applicant_kinds=applicant_kind_labels(), id_kinds=id_kind_labels(),
                        deadline=deadline(row["due_on"], day) if row["status"] == "open" else None,
                        may_extend=may_extend(row["status"], row["extension_reason"] is not None, row["due_on"], day),
                        may_ask_supplement=may_ask_supplement(row["status"], row["supplement_request"] is not None,
                                                              row["received_on"], day),
                        supplement_days=SUPPLEMENT_DAYS, supplement_max_days=SUPPLEMENT_MAX_DAYS,
                        calendar_known=calendar_knows(row["due_on"].year), max_reply=requests.MAX_REPLY,
                        max_reason=requests.MAX_REASON, when=when, max_mb=request_files.MAX_BYTES // (1024 * 1024))


@get("/requests/manage/{request_id:int}", name="disclosure:request", guards=STAFF, after_request=_no_store)
async def request_page(request: Request, request_id: FromPath[int]) -> Response:
    return await _detail(request, request_id)


async def _act(request: Request, request_id: int, action, done: str, values: dict) -> Response:
    """Run a staff action; its refusal shows the request again with the reason and what was typed."""
    try:
        await action()
    except requests.NotFound:
        raise NotFoundException() from None
    except requests.AlreadyDone as refused:
        return await _detail(request, request_id, error=str(refused), status_code=409)
    except requests.RequestRefused as refused:
        return await _detail(request, request_id, error=str(refused), status_code=400, values=values)
    _flash(request, done)
    return redirect(f"{BASE}/manage/{request_id}")


async def _upload(form) -> requests.Upload | None:
    item = form.get("file")
    if not isinstance(item, UploadFile) or not item.filename:
        return None
    return requests.Upload(item.filename, await item.read())


@post("/requests/manage/{request_id:int}/reply", name="disclosure:request_reply", guards=STAFF,
      request_max_body_size=BODY_LIMIT)
async def request_reply(request: Request, request_id: FromPath[int]) -> Response:
    portal, user, form = portal_of(request), current_user(request), await request.form()
    values = {k: str(form.get(k, "")) for k in ("decision", "reply", "reason")}
    upload = await _upload(form)
    return await _act(request, request_id, lambda: requests.reply(
        portal, user, request_id, values["decision"], values["reply"], values["reason"], upload, ip=client_ip(request)),
        _("The reply was sent: the applicant sees it on the tracking page."), values)


@post("/requests/manage/{request_id:int}/extend", name="disclosure:request_extend", guards=STAFF)
async def request_extend(request: Request, request_id: FromPath[int]) -> Response:
    portal, user, form = portal_of(request), current_user(request), await request.form()
    values = {"extension_reason": str(form.get("extension_reason", ""))}
    return await _act(request, request_id, lambda: requests.extend(
        portal, user, request_id, values["extension_reason"], today(), ip=client_ip(request)),
        _("The deadline was extended; the applicant sees the new date and the reason."), values)


@post("/requests/manage/{request_id:int}/supplement", name="disclosure:request_supplement", guards=STAFF)
async def request_supplement(request: Request, request_id: FromPath[int]) -> Response:
    portal, user, form = portal_of(request), current_user(request), await request.form()
    values = {k: str(form.get(k, "")) for k in ("supplement_request", "supplement_days")}
    return await _act(request, request_id, lambda: requests.ask_supplement(
        portal, user, request_id, values["supplement_request"], values["supplement_days"].strip(), today(),
        ip=client_ip(request)), _("The applicant was asked for more details; the deadline waits for his answer."), values)


@post("/requests/manage/{request_id:int}/close", name="disclosure:request_close", guards=STAFF)
async def request_close(request: Request, request_id: FromPath[int]) -> Response:
    portal, user, form = portal_of(request), current_user(request), await request.form()
    values = {"close_reason": str(form.get("close_reason", ""))}
    return await _act(request, request_id, lambda: requests.close(
        portal, user, request_id, values["close_reason"], ip=client_ip(request)), _("The request was closed."), values)


@get("/requests/manage/{request_id:int}/attachment", name="disclosure:request_attachment", guards=STAFF)
async def request_attachment(request: Request, request_id: FromPath[int]) -> File:
    try:
        row = await requests.request_for(current_user(request), request_id)
    except requests.NotFound:
        raise NotFoundException() from None
    return _download(request, row)


@get("/requests/manage/report", name="disclosure:requests_report", guards=STAFF)
async def report_page(request: Request) -> Response:
    """Overdue requests per unit: the unit's own, or every unit's for administrators."""
    user, day = current_user(request), today()
    unit_id = None if user.is_admin else requests.unit_of(user)
    lines = await request_reports.overdue_report(day, unit_id) if user.is_admin or unit_id is not None else []
    return await render(request, "disclosure/requests/report.html", lines=lines, today=day, all_units=user.is_admin,
                        calendar_known=calendar_knows(day.year))


REQUEST_ROUTES = [requests_home, request_new, request_file, track_page, track_lookup, tracked_page, tracked_supplement,
                  track_forget, tracked_attachment, queue_page, request_page, request_reply, request_supplement,
                  request_extend, request_close, request_attachment, report_page]
