"""Compose, send, drafts, reply/forward and send status pages (MAIL-4, MAIL-5), under /webmail.

Handlers parse the form, call ``plugins.webmail.sending`` and render; every page works without
JavaScript (the directory picker is a submit button that re-renders the form), htmx only
swaps the directory and refreshes the status rows.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException

from plugins.webmail import sending
from plugins.webmail.levels import limits_for_mailbox
from plugins.webmail.blobs import read_blob
from plugins.webmail.mime import parse_message
from plugins.webmail.services import get_message, mailbox_of
from portal.i18n import gettext as _
from portal.web import current_user, permission_required, portal_of, rate_limited, redirect, render

GUARDS = [permission_required("webmail.use")]


# Room in a compose request beyond the message limit: the form's fields and the multipart framing.
UPLOAD_ALLOWANCE = 4 * 1024 * 1024


def upload_limit(portal) -> int:
    """Largest request the compose form accepts (its own, over the portal's max_request_body):
    the message limit (``[webmail] max_message_bytes``) plus room for the fields. The exact
    message limit is checked by the send service, which answers with the form and a message."""
    return sending.max_message_bytes(portal) + UPLOAD_ALLOWANCE


def status_labels() -> dict[str, str]:
    return {"queued": _("Queued"), "delivered": _("Delivered"), "opened": _("Opened"), "deferred": _("Deferred"),
            "failed": _("Failed"), "bounced": _("Bounced")}


def detail_label(detail: str) -> str:
    known = {"no such user": _("No such user"), "mailbox full": _("The recipient's mailbox is full")}
    return known.get(detail, detail)


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    return str(value or "").replace("\r\n", "\n").replace("\r", "\n")


# The form ---------------------------------------------------------------------------------


def _values(draft: sending.Draft, **extra: Any) -> dict[str, Any]:
    """Form values of a draft."""
    return {"to": ", ".join(draft.to), "cc": ", ".join(draft.cc), "bcc": ", ".join(draft.bcc),
            "subject": draft.subject, "body": draft.body, "separate_display": draft.separate_display,
            "in_reply_to": draft.in_reply_to, "references": draft.references,
            "draft_id": draft.draft_id or "", "source_id": draft.source_id or "",
            "carry": [str(i) for i in draft.carry], "attach_original": draft.attach_original, "pick": [], **extra}


async def _source(request: Request, source_id: Any) -> dict | None:
    """The message a forward or a reopened draft starts from: the user's own, or None."""
    source = _int(source_id)
    if source is None:
        return None
    mailbox = await mailbox_of(current_user(request))
    return await get_message(mailbox["id"], source)


async def _carried(request: Request, source_id: Any) -> list:
    """The attachments of the source message (the user's own), to tick which go along."""
    row = await _source(request, source_id)
    if row is None:
        return []
    raw = await read_blob(portal_of(request), row["blob_sha"])
    return [a for a in parse_message(raw).attachments if not a.inline]


async def _page(request: Request, values: dict[str, Any], errors: dict[str, str] | None = None, *,
                status_code: int = 200, notice: str = "", original_subject: str = "") -> Response:
    if values.get("attach_original") and not original_subject:
        # The form shown again (an error, the directory) names the original as the forward page did.
        source = await _source(request, values.get("source_id"))
        original_subject = source["subject"] if source else ""
    unit = _int(values.get("unit"))
    if unit is None and "unit" not in values:
        unit = current_user(request).unit_id
    carried = await _carried(request, values.get("source_id"))
    limits = await limits_for_mailbox(await mailbox_of(current_user(request)))
    limit = min(sending.max_message_bytes(portal_of(request)), limits.max_message_bytes)
    return await render(
        request, "webmail/compose.html", fragment="webmail/_compose_directory.html", status_code=status_code,
        values=values, errors=errors or {}, notice=notice, carried=carried, original_subject=original_subject,
        directory=await sending.directory(unit), limit_mb=round(limit / 1048576, 1),
        max_recipients=min(sending.MAX_RECIPIENTS, limits.max_recipients), limits=limits,
    )


@get("/compose", guards=GUARDS, name="webmail:compose")
async def compose_page(request: Request, draft: int | None = None, unit: int | None = None, saved: bool = False) -> Response:
    values: dict[str, Any] = _values(sending.Draft())
    if unit is not None or "unit" in request.query_params:
        values["unit"] = unit if unit is not None else ""
    original = ""
    if draft is not None:
        prefill = await sending.open_draft(portal_of(request), current_user(request), draft)
        if prefill is None:
            raise NotFoundException()
        values.update(_values(prefill.draft))
        original = prefill.original_subject
    return await _page(request, values, notice=_("The draft is saved.") if saved else "", original_subject=original)


def _addresses(form, name: str) -> list[str]:
    return sending.split_addresses(_text(form.get(name, "")))


async def _read_form(request: Request) -> tuple[dict[str, Any], sending.Draft, str]:
    form = await request.form()
    picked = [str(p) for p in form.getall("pick")] if "pick" in form else []
    action = str(form.get("action", "send"))
    to = _addresses(form, "to")
    chosen = {a.lower() for a in to}
    for address in picked:
        if address.lower() not in chosen:
            chosen.add(address.lower())
            to.append(address)
    files = []
    for item in form.getall("attachments") if "attachments" in form else []:
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read()
            files.append(sending.upload(item.filename, item.content_type or "", data))
    draft = sending.Draft(
        to=to, cc=_addresses(form, "cc"), bcc=_addresses(form, "bcc"),
        subject=_text(form.get("subject", "")).strip(), body=_text(form.get("body", "")),
        attachments=files, separate_display=bool(form.get("separate_display")),
        in_reply_to=str(form.get("in_reply_to", ""))[:300], references=str(form.get("references", ""))[:4000],
        draft_id=_int(form.get("draft_id")), source_id=_int(form.get("source_id")),
        carry=[i for i in (_int(c) for c in (form.getall("carry") if "carry" in form else [])) if i is not None],
        attach_original=bool(form.get("attach_original")),
    )
    values = _values(draft, unit=str(form.get("unit", "")))
    values["to"] = _text(form.get("to", "")).strip()
    values["cc"] = _text(form.get("cc", "")).strip()
    values["bcc"] = _text(form.get("bcc", "")).strip()
    values["pick"] = picked
    return values, draft, action


async def _is_sending(request: Request) -> bool:
    """Only the Send button counts against the sending limits, not drafts or the directory."""
    return (await request.form()).get("action", "send") == "send"


@post("/compose", guards=GUARDS, name="webmail:compose_submit", opt=rate_limited("send", when=_is_sending))
async def compose_submit(request: Request) -> Response:
    values, draft, action = await _read_form(request)
    portal, user = portal_of(request), current_user(request)
    if action == "directory":
        # No JavaScript: show another unit's members; what was picked moves into To.
        values["to"] = ", ".join(draft.to)
        values["pick"] = []
        return await _page(request, values)
    try:
        if action == "draft":
            message_id = await sending.save_draft(portal, user, draft)
            return redirect(f"/webmail/compose?draft={message_id}&saved=1")
        outgoing_id = await sending.send(portal, user, draft)
    except sending.ValidationError as error:
        return await _page(request, values, error.errors, status_code=400)
    return redirect(f"/webmail/sent/{outgoing_id}/status")


# Reply and forward ------------------------------------------------------------------------


async def _prefilled(request: Request, prefill) -> Response:
    if prefill is None:
        raise NotFoundException()
    return await _page(request, _values(prefill.draft), original_subject=prefill.original_subject)


@get("/message/{message_id:int}/reply", guards=GUARDS, name="webmail:reply")
async def reply_page(request: Request, message_id: int) -> Response:
    return await _prefilled(request, await sending.reply(portal_of(request), current_user(request), message_id))


@get("/message/{message_id:int}/reply-all", guards=GUARDS, name="webmail:reply_all")
async def reply_all_page(request: Request, message_id: int) -> Response:
    return await _prefilled(request, await sending.reply(portal_of(request), current_user(request), message_id, everyone=True))


@get("/message/{message_id:int}/forward", guards=GUARDS, name="webmail:forward")
async def forward_page(request: Request, message_id: int) -> Response:
    as_attachment = request.query_params.get("as") == "attachment"
    return await _prefilled(request, await sending.forward(portal_of(request), current_user(request), message_id,
                                                           as_attachment=as_attachment))


# Status -----------------------------------------------------------------------------------


@get("/sent/{outgoing_id:int}/status", guards=GUARDS, name="webmail:send_status")
async def status_page(request: Request, outgoing_id: int) -> Response:
    outgoing = await sending.outgoing_of(current_user(request), outgoing_id)
    if outgoing is None:
        raise NotFoundException()
    pending = any(d["status"] in ("queued", "deferred", "delivered") for d in outgoing["deliveries"])
    return await render(request, "webmail/status.html", fragment="webmail/_compose_status_rows.html", outgoing=outgoing,
                        labels=status_labels(), detail_label=detail_label, pending=pending)


@get("/status", guards=GUARDS, name="webmail:send_status_list")
async def status_list(request: Request) -> Response:
    rows = await sending.recent_sends(current_user(request))
    return await render(request, "webmail/status_list.html", sends=rows, labels=status_labels())


def compose_routes(portal) -> list:
    """The compose pages; the form's POST in a router of its own carrying the upload limit
    (Litestar copies a router per application, so each gets the limit of its settings)."""
    upload = Router(path="/", route_handlers=[compose_submit], request_max_body_size=upload_limit(portal))
    return [compose_page, upload, reply_page, reply_all_page, forward_page, status_page, status_list]
