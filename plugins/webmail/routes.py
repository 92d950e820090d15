"""Reading mail (MAIL-1, MAIL-18): folders, the message list, a message, its parts and raw source.

Every lookup goes through the current user's own mailbox (``get_message(mailbox_id, id)``),
so another user's ids answer 404. HTML mail is shown in a sandboxed iframe whose document,
``/webmail/message/{id}/body``, has its own strict Content-Security-Policy.
"""

from __future__ import annotations

import base64
import math
from urllib.parse import urlencode, urlsplit

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from markupsafe import Markup

from plugins.webmail import services
from plugins.webmail.blobs import read_blob
from plugins.webmail.mime import attachment_bytes, content_disposition, parse_message
from plugins.webmail.sanitize import sanitize_html, text_to_html
from portal.i18n import gettext as _
from portal.i18n import ngettext
from portal.web import current_user, permission_required, portal_of, rate_limited, redirect, render, safe_next

GUARDS = [permission_required("webmail.use")]
SORT_KEYS = ("date", "sender", "subject", "size")
FILTERS = ("unread", "flagged", "attachments")
# Shown in the page (never as a download) only when a message refers to them as inline images.
INLINE_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
MAX_EMBEDDED_BYTES = 10 * 1024 * 1024  # inline images put into the body document as data: URLs
LINK_SCHEMES = ("http", "https", "mailto")
MAX_LINK = 4000
SHOWN_IMAGES_KEY = "webmail_images"  # session: ids of messages whose remote images are shown this once
FLASH_KEY = "webmail_flash"


# --------------------------------------------------------------------------- helpers


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1048576:.1f} MB"


def _local_time(moment) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else ""


async def _mailbox(request: Request) -> dict:
    return await services.ensure_mailbox(current_user(request).id)


async def _message(request: Request, message_id: int) -> tuple[dict, dict]:
    """(mailbox, message) of the current user; 404 for anybody else's id."""
    mailbox = await _mailbox(request)
    row = await services.get_message(mailbox["id"], message_id)
    if row is None:
        raise NotFoundException()
    return mailbox, row


async def _raw(request: Request, row: dict) -> bytes:
    return await read_blob(portal_of(request), row["blob_sha"])


def _flash(request: Request, message: str) -> None:
    request.session[FLASH_KEY] = message


def _pop_flash(request: Request) -> str | None:
    session = request.scope.get("session")
    return session.pop(FLASH_KEY, None) if isinstance(session, dict) else None


def folder_url(folder: dict) -> str:
    return "/webmail" if folder["kind"] == "inbox" else f"/webmail/folder/{folder['id']}"


def _sidebar(folders: list[dict]) -> list[dict]:
    """The folder list with unread counts, from ``services.folders_of``."""
    return [{"id": f["id"], "kind": f["kind"], "label": services.folder_label(f["kind"], f["name"], _),
             "unread": f["unread"], "url": folder_url(f)} for f in folders]


def _is_history_restore(request: Request) -> bool:
    return request.headers.get("hx-history-restore-request") == "true"


def _is_search(request: Request) -> bool:
    return bool((request.query_params.get("q") or "").strip())


# A list with a search text counts against the search limits (MAIL-17).
SEARCH = rate_limited("search", when=_is_search)


class ListState:
    """The list's query string: sort, order, filters, search and page, read leniently."""

    def __init__(self, request: Request):
        params = request.query_params
        self.sort = params.get("sort") if params.get("sort") in SORT_KEYS else "date"
        self.order = "asc" if params.get("order") == "asc" else "desc"
        self.filters = {name: params.get(name) == "1" for name in FILTERS}
        self.q = (params.get("q") or "").strip()[: services.MAX_QUERY]
        page = params.get("page") or "1"
        self.page = min(int(page), 100_000) if page.isdigit() and int(page) > 0 else 1

    def params(self, **changes) -> dict:
        values = {"sort": self.sort, "order": self.order, **{k: "1" if v else "" for k, v in self.filters.items()},
                  "q": self.q, "page": str(self.page)}
        values.update({k: str(v) for k, v in changes.items()})
        defaults = {"sort": "date", "order": "desc", "page": "1"}
        return {k: v for k, v in values.items() if v and defaults.get(k) != v}

    def url(self, base: str, **changes) -> str:
        query = urlencode(self.params(**changes))
        return f"{base}?{query}" if query else base

    def sort_url(self, base: str, key: str) -> str:
        order = ("asc" if self.order == "desc" else "desc") if key == self.sort else ("desc" if key in ("date", "size") else "asc")
        return self.url(base, sort=key, order=order, page=1)

    def query(self, folder_id: int) -> services.ListQuery:
        return services.ListQuery(folder_id=folder_id, sort=self.sort, descending=self.order == "desc", search=self.q,
                                  page=self.page, **self.filters)


# --------------------------------------------------------------------------- folders and the list


async def _folder_page(request: Request, mailbox: dict, folders: list[dict], folder: dict) -> Response:
    services.note_inbox_unread(current_user(request), folders)
    state = ListState(request)
    rows, total = await services.list_messages(mailbox["id"], state.query(folder["id"]), folder)
    pages = max(1, math.ceil(total / services.PAGE_SIZE))
    base = folder_url(folder)
    folders = _sidebar(folders)
    context = dict(
        mailbox=mailbox, folder=folder, folder_label=services.folder_label(folder["kind"], folder["name"], _),
        folders=folders, targets=[f for f in folders if f["id"] != folder["id"]], messages=rows, total=total,
        state=state, base=base, page=state.page, pages=pages, here=state.url(base),
        previous_url=state.url(base, page=state.page - 1) if state.page > 1 else None,
        next_url=state.url(base, page=state.page + 1) if state.page < pages else None,
        human_size=human_size, local_time=_local_time, flash=_pop_flash(request),
    )
    fragment = None if _is_history_restore(request) else "webmail/_list.html"
    return await render(request, "webmail/index.html", fragment=fragment, **context)


@get("/", guards=GUARDS, name="webmail:inbox", opt=SEARCH)
async def inbox(request: Request) -> Response:
    mailbox, folders = await services.mailbox_with_folders(current_user(request).id)
    return await _folder_page(request, mailbox, folders, next(f for f in folders if f["kind"] == "inbox"))


@get("/folder/{folder_id:int}", guards=GUARDS, name="webmail:folder", opt=SEARCH)
async def folder_page(request: Request, folder_id: int) -> Response:
    mailbox, folders = await services.mailbox_with_folders(current_user(request).id)
    folder = next((f for f in folders if f["id"] == folder_id), None)
    if folder is None:
        raise NotFoundException()
    return await _folder_page(request, mailbox, folders, folder)


@post("/folders", guards=GUARDS, name="webmail:create_folder")
async def create_folder(request: Request) -> Response:
    mailbox = await _mailbox(request)
    form = await request.form()
    try:
        new_id = await services.create_folder(mailbox["id"], str(form.get("name") or ""))
    except services.ActionError as error:
        _flash(request, _("A folder with this name exists already.") if str(error) == "duplicate"
               else _("Give the folder a name of at most 100 characters."))
        return redirect(_back(form.get("back")))
    _flash(request, _("Folder created."))
    return redirect(f"/webmail/folder/{new_id}")


def _back(value) -> str:
    path = safe_next(str(value or ""))
    return path if path == "/webmail" or path.startswith(("/webmail?", "/webmail/folder/", "/webmail/message/")) else "/webmail"


def _ids(values: list) -> list[int]:
    return [int(v) for v in values if str(v).isdigit() and len(str(v)) < 12][:500]


@post("/actions", guards=GUARDS, name="webmail:actions")
async def bulk_action(request: Request) -> Response:
    """The list's (and a message's) action buttons: move, delete, mark read or unread, flag, unflag."""
    mailbox = await _mailbox(request)
    form = await request.form()
    back = _back(form.get("back"))
    ids = _ids(form.getall("ids") if "ids" in form else [])
    action = str(form.get("action") or "")
    target = str(form.get("folder") or "")
    if not ids:
        _flash(request, _("Select at least one message."))
        return redirect(back)
    try:
        done = await services.apply_action(mailbox["id"], ids, action, int(target) if target.isdigit() else None)
    except services.ActionError:
        _flash(request, _("Choose an action and, to move, a folder."))
        return redirect(back)
    _flash(request, ngettext("%(num)s message updated.", "%(num)s messages updated.", done))
    if back.startswith("/webmail/message/") and action in ("delete", "move", "unread"):
        row = await services.get_message(mailbox["id"], ids[0])
        back = f"/webmail/folder/{row['folder']}" if row else "/webmail"
    return redirect(back)


# --------------------------------------------------------------------------- one message


def _images_shown_once(request: Request, message_id: int) -> bool:
    session = request.scope.get("session")
    return isinstance(session, dict) and message_id in (session.get(SHOWN_IMAGES_KEY) or [])


async def _remote_images_allowed(request: Request, mailbox: dict, row: dict) -> bool:
    return _images_shown_once(request, row["id"]) or await services.images_trusted(mailbox["id"], row["sender_address"])


def _cid_map(message_id: int, attachments) -> dict[str, str]:
    return {a.content_id: f"/webmail/message/{message_id}/part/{a.index}?inline=1"
            for a in attachments if a.content_id and a.content_type in INLINE_IMAGE_TYPES}


def _sanitized(row: dict, parsed, allow_remote: bool):
    cids = _cid_map(row["id"], parsed.attachments)
    return sanitize_html(parsed.html or "", allow_remote_images=allow_remote, cid_url=cids.get)


def _embed_inline_images(html: str, raw: bytes, message_id: int, attachments) -> str:
    """Replace the part URLs of inline (cid:) images with data: URLs.

    The sandboxed iframe's document has an opaque origin, so Chromium sends its requests as
    cross-site, without the SameSite=Lax session cookie: a part URL would answer the login page.
    Only the URLs this module put there are replaced, with images of the few raster types
    (base64, so nothing can break out of the attribute); past the size cap the URL is kept.
    """
    budget = MAX_EMBEDDED_BYTES
    for attachment in attachments:
        url = f"/webmail/message/{message_id}/part/{attachment.index}?inline=1"
        if attachment.content_type not in INLINE_IMAGE_TYPES or f'src="{url}"' not in html or attachment.size > budget:
            continue
        found = attachment_bytes(raw, attachment.index)
        if found is None:
            continue
        budget -= len(found[1])
        data = f"data:{attachment.content_type};base64,{base64.b64encode(found[1]).decode('ascii')}"
        html = html.replace(f'src="{url}"', f'src="{data}"')
    return html


@get("/message/{message_id:int}", guards=GUARDS, name="webmail:message")
async def message_page(request: Request, message_id: int) -> Response:
    mailbox, row = await _message(request, message_id)
    await services.mark_seen(mailbox["id"], message_id)
    parsed = parse_message(await _raw(request, row))
    rows = await services.folders_of(mailbox["id"])
    services.note_inbox_unread(current_user(request), rows)
    folders = _sidebar(rows)
    folder = next((f for f in folders if f["id"] == row["folder"]), folders[0])
    allowed = await _remote_images_allowed(request, mailbox, row)
    blocked = _sanitized(row, parsed, False).blocked_images if parsed.html is not None and not allowed else 0
    text = None if parsed.html is not None else Markup(text_to_html(parsed.text))
    return await render(
        request, "webmail/message.html", mailbox=mailbox, message=row, parsed=parsed, folders=folders, folder=folder,
        targets=[f for f in folders if f["id"] != folder["id"]], text=text, blocked_images=blocked, images_allowed=allowed,
        attachments=[a for a in parsed.attachments if not (a.inline and a.content_id and a.content_type in INLINE_IMAGE_TYPES)],
        date=_local_time(parsed.date or row["sent_at"]), human_size=human_size, flash=_pop_flash(request),
    )


def body_csp(request: Request, message_id: int, remote_images: bool) -> str:
    origin = f"{request.url.scheme}://{request.url.netloc}"
    images = f"data: {origin}/webmail/message/{message_id}/part/" + (" https: http:" if remote_images else "")
    return (f"default-src 'none'; img-src {images}; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox")


BODY_DOCUMENT = ('<!doctype html>\n<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">'
                 "<title></title></head>\n<body>\n{}\n</body></html>\n")


@get("/message/{message_id:int}/body", guards=GUARDS, name="webmail:body")
async def message_body(request: Request, message_id: int) -> Response:
    """The sanitized HTML body as a document of its own, for the sandboxed iframe."""
    mailbox, row = await _message(request, message_id)
    raw = await _raw(request, row)
    parsed = parse_message(raw)
    allowed = await _remote_images_allowed(request, mailbox, row)
    if parsed.html is not None:
        html = _embed_inline_images(_sanitized(row, parsed, allowed).html, raw, message_id, parsed.attachments)
    else:
        html = text_to_html(parsed.text)
    return Response(BODY_DOCUMENT.format(html), media_type="text/html", headers={
        "content-security-policy": body_csp(request, message_id, allowed),
        "x-frame-options": "SAMEORIGIN",
        "referrer-policy": "no-referrer",
        "cache-control": "private, no-store",
    })


@get("/message/{message_id:int}/part/{index:int}", guards=GUARDS, name="webmail:part")
async def message_part(request: Request, message_id: int, index: int) -> Response:
    """An attachment: always a download, except an image the message shows inline (``?inline=1``)."""
    _, row = await _message(request, message_id)
    found = attachment_bytes(await _raw(request, row), index)
    if found is None:
        raise NotFoundException()
    attachment, data = found
    inline = request.query_params.get("inline") == "1" and attachment.content_type in INLINE_IMAGE_TYPES
    return Response(data, media_type=attachment.content_type if inline else "application/octet-stream", headers={
        "content-disposition": content_disposition(attachment.filename, inline=inline),
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
        "cache-control": "private, no-store",
    })


@get("/message/{message_id:int}/raw", guards=GUARDS, name="webmail:raw")
async def message_raw(request: Request, message_id: int) -> Response:
    _, row = await _message(request, message_id)
    text = (await _raw(request, row)).decode("utf-8", errors="replace")
    return Response(text.encode("utf-8"), media_type="text/plain", headers={
        "content-disposition": content_disposition(f"message-{message_id}.eml.txt", inline=True),
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
        "cache-control": "private, no-store",
    })


@post("/message/{message_id:int}/images", guards=GUARDS, name="webmail:show_images")
async def show_images(request: Request, message_id: int) -> Response:
    """Show this message's remote images, this once (kept in the session, not in any URL)."""
    await _message(request, message_id)
    shown = [i for i in (request.session.get(SHOWN_IMAGES_KEY) or []) if i != message_id][-49:]
    request.session[SHOWN_IMAGES_KEY] = [*shown, message_id]
    return redirect(f"/webmail/message/{message_id}")


@post("/message/{message_id:int}/trust", guards=GUARDS, name="webmail:trust_sender")
async def trust_sender(request: Request, message_id: int) -> Response:
    mailbox, row = await _message(request, message_id)
    if row["sender_address"]:
        await services.trust_image_sender(mailbox["id"], row["sender_address"])
        _flash(request, _("Images from %(sender)s will always be shown.", sender=row["sender_address"]))
    return redirect(f"/webmail/message/{message_id}")


# --------------------------------------------------------------------------- leaving the portal


def checked_link(url: str) -> str | None:
    """The URL if it may be offered as a link out of the portal: http, https (with a host) or mailto."""
    if not url or len(url) > MAX_LINK or any(ord(c) < 0x21 or c == "\x7f" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in LINK_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.hostname:
        return None
    return url


@get("/link", guards=GUARDS, name="webmail:link")
async def leave(request: Request) -> Response:
    """The warning page before a link in a message takes the reader out of the portal."""
    url = checked_link(request.query_params.get("url") or "")
    if url is None:
        return await render(request, "webmail/link.html", status_code=400, url=None)
    return await render(request, "webmail/link.html", url=url, host=urlsplit(url).hostname or "")


ROUTES = [inbox, folder_page, create_folder, bulk_action, message_page, message_body, message_part, message_raw,
          show_images, trust_sender, leave]
