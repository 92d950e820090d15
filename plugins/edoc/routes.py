"""Pages of official documents: thin handlers over ``plugins.edoc.services`` and ``flows``."""

from __future__ import annotations

from litestar import Request, Response, get, post

from plugins.edoc import flows, services
from plugins.edoc.services import DraftForm, EdocError
from portal.i18n import gettext as _
from portal.richtext import body_html
from portal.roles import ROLE_CODES, role_labels
from portal.web import current_user, permission_required, portal_of, redirect, render

GUARDS = [permission_required("edoc.draft")]
ADMIN = [permission_required("edoc.flows")]


def labels() -> dict:
    """The words the pages show for stored codes."""
    return {
        "direction_labels": {"upward": _("Upward (上行文)"), "downward": _("Downward (下行文)"), "parallel": _("Parallel (平行文)"),
                             "incoming": _("Incoming (收文)")},
        "urgency_labels": {"normal": _("Normal"), "urgent": _("Urgent (加急)"), "very_urgent": _("Very urgent (特急)")},
        "classification_labels": {"public": _("Public (公开)"), "internal": _("Internal (内部)"), "secret": _("Secret (秘密)"),
                                  "confidential": _("Confidential (机密)"), "top_secret": _("Top secret (绝密)")},
        "status_labels": {"draft": _("With the drafter"), "in_progress": _("On its way"), "sent": _("Sent"), "finished": _("Finished")},
        "phase_labels": {"countersign": _("countersign"), "secretary": _("secretary after countersign"),
                         "office": _("office head after countersign")},
        "action_buttons": {"approve": _("Approve and pass on"), "return": _("Return"), "countersign": _("Pass to another leader (会签)"),
                           "to_secretary": _("Send to the secretary"), "recall": _("Recall"), "take": _("Take from the role inbox"),
                           "number": _("Register the number"), "send": _("Check and send")},
        "action_labels": {"approve": _("approved"), "return": _("returned"), "countersign": _("passed to another leader"),
                          "to_secretary": _("sent to the secretary"), "number": _("numbered"), "send": _("sent"),
                          "recalled": _("recalled")},
    }


async def _page(request: Request, template: str, **context) -> Response:
    return await render(request, template, **labels(), **context)


async def _error(request: Request, error: EdocError, document_id: int | None = None) -> Response:
    """The refusal with its reason; ``document_id`` links back to the document acted on."""
    return await _page(request, "edoc/error.html", status_code=error.status_code, message=error.message, document_id=document_id)


def _int(value) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _draft_form(form) -> DraftForm:
    return DraftForm(doc_type=str(form.get("doc_type", "")), direction=str(form.get("direction", "")),
                     title=str(form.get("title", ""))[:300], main_recipients=str(form.get("main_recipients", ""))[:600],
                     copy_recipients=str(form.get("copy_recipients", ""))[:600], urgency=str(form.get("urgency", "")),
                     classification=str(form.get("classification", "")), body=str(form.get("body", ""))[:services.MAX_BODY + 1],
                     has_attachments=form.get("has_attachments") == "on", source=str(form.get("source", ""))[:300])


def _form_context(**context) -> dict:
    return {"doc_types": services.DOC_TYPES, "directions": services.DIRECTIONS, "urgencies": services.URGENCIES,
            "classifications": services.CLASSIFICATIONS, "errors": {}, **context}


@get("/", name="edoc:index", guards=GUARDS)
async def index(request: Request) -> Response:
    user = current_user(request)
    return await _page(request, "edoc/index.html", tasks=await services.todo(user), drafts=await services.drafted_by(user))


@get("/done", name="edoc:done", guards=GUARDS)
async def done(request: Request) -> Response:
    return await _page(request, "edoc/done.html", tasks=await services.done(current_user(request)))


@get("/new", name="edoc:new", guards=GUARDS)
async def new(request: Request, incoming: bool = False) -> Response:
    form = DraftForm(doc_type="通知" if incoming else "请示", direction="incoming" if incoming else "upward", title="")
    return await _page(request, "edoc/draft.html", **_form_context(form=form, incoming=incoming, document=None))


@post("/new", name="edoc:create", guards=GUARDS)
async def create(request: Request) -> Response:
    data = await request.form()
    form, incoming = _draft_form(data), data.get("incoming") == "1"
    try:
        document_id = await services.create_draft(current_user(request), form, portal_of(request), incoming=incoming)
    except services.Invalid as error:
        return await _page(request, "edoc/draft.html", status_code=400,
                            **_form_context(form=form, incoming=incoming, document=None, errors=error.errors, message=error.message))
    except EdocError as error:
        return await _error(request, error)
    return redirect(f"/edoc/{document_id}")


@get("/{document_id:int}", name="edoc:document", guards=GUARDS)
async def document(request: Request, document_id: int) -> Response:
    try:
        view = await services.document_view(current_user(request), document_id)
    except EdocError as error:
        return await _error(request, error)
    return await _page(request, "edoc/document.html", **view, role_labels=role_labels(),
                       body_html=body_html(view["document"]["body"]))


@get("/{document_id:int}/print", name="edoc:print", guards=GUARDS)
async def print_history(request: Request, document_id: int) -> Response:
    try:
        view = await services.document_view(current_user(request), document_id)
    except EdocError as error:
        return await _error(request, error)
    return await _page(request, "edoc/print.html", **view, role_labels=role_labels(),
                       body_html=body_html(view["document"]["body"]))


@get("/{document_id:int}/edit", name="edoc:edit", guards=GUARDS)
async def edit(request: Request, document_id: int) -> Response:
    try:
        row = await services.load(document_id)
    except EdocError as error:
        return await _error(request, error)
    if row["drafter"] != current_user(request).id:
        return await _error(request, services.NotYours(_("Only the drafter edits a document, while it is with him.")))
    form = DraftForm(**{k: row[k] for k in ("doc_type", "direction", "title", "main_recipients", "copy_recipients", "urgency",
                                              "classification", "body", "has_attachments", "source")})
    return await _page(request, "edoc/draft.html", **_form_context(form=form, incoming=row["direction"] == "incoming", document=row))


@post("/{document_id:int}/edit", name="edoc:update", guards=GUARDS)
async def update(request: Request, document_id: int) -> Response:
    data = await request.form()
    form = _draft_form(data)
    try:
        await services.update_draft(current_user(request), document_id, form, portal_of(request))
    except services.Invalid as error:
        row = await services.load(document_id)
        return await _page(request, "edoc/draft.html", status_code=400,
                            **_form_context(form=form, incoming=row["direction"] == "incoming", document=row, errors=error.errors,
                                            message=error.message))
    except EdocError as error:
        return await _error(request, error)
    return redirect(f"/edoc/{document_id}")


@post("/{document_id:int}/opinion", name="edoc:opinion", guards=GUARDS)
async def opinion(request: Request, document_id: int) -> Response:
    data = await request.form()
    try:
        await services.save_opinion(current_user(request), document_id, _int(data.get("task")) or 0, str(data.get("opinion", ""))[:5000])
    except EdocError as error:
        return await _error(request, error, document_id)
    return redirect(f"/edoc/{document_id}")


@post("/{document_id:int}/act", name="edoc:act", guards=GUARDS)
async def act(request: Request, document_id: int) -> Response:
    data = await request.form()
    try:
        await services.act(current_user(request), document_id, _int(data.get("task")) or 0, str(data.get("action", "")),
                           portal_of(request), reason=str(data.get("reason", ""))[:5000], return_to=_int(data.get("return_to", "")),
                           countersigner=_int(data.get("countersigner", "")), department=_int(data.get("department", "")))
    except EdocError as error:
        return await _error(request, error, document_id)
    return redirect(f"/edoc/{document_id}")


@post("/{document_id:int}/take", name="edoc:take", guards=GUARDS)
async def take(request: Request, document_id: int) -> Response:
    data = await request.form()
    try:
        await services.take(current_user(request), document_id, _int(data.get("task")) or 0, portal_of(request))
    except EdocError as error:
        return await _error(request, error, document_id)
    return redirect(f"/edoc/{document_id}")


@post("/{document_id:int}/recall", name="edoc:recall", guards=GUARDS)
async def recall(request: Request, document_id: int) -> Response:
    try:
        await services.recall(current_user(request), document_id, portal_of(request))
    except EdocError as error:
        return await _error(request, error, document_id)
    return redirect(f"/edoc/{document_id}")


@post("/{document_id:int}/publish", name="edoc:publish", guards=GUARDS)
async def publish(request: Request, document_id: int) -> Response:
    try:
        await services.publish(current_user(request), document_id, portal_of(request))
    except EdocError as error:
        return await _error(request, error, document_id)
    return redirect(f"/edoc/{document_id}")


@get("/flows", name="edoc:flows", guards=ADMIN)
async def flow_list(request: Request) -> Response:
    from plugins.edoc.organisation import names_of_units, units_administered_by

    units = await units_administered_by(current_user(request).id)
    every_unit = await names_of_units()
    return await _page(request, "edoc/flows.html", flows=await flows.flows_for_admin(units), units=every_unit,
                        adjustable=[u for u in every_unit if units is None or u["id"] in units],
                        possible=flows.POSSIBLE_ACTIONS, role_labels=role_labels())


async def _refused(request: Request, refusal: flows.NotYourUnit) -> Response:
    return await _page(request, "edoc/error.html", status_code=403, message=str(refusal))


@post("/flows/adopt", name="edoc:flow_adopt", guards=ADMIN)
async def flow_adopt(request: Request) -> Response:
    data = await request.form()
    try:
        flow_id = await flows.adopt_flow(current_user(request), portal_of(request), _int(data.get("unit")) or 0, str(data.get("kind")))
    except flows.NotYourUnit as refusal:
        return await _refused(request, refusal)
    except flows.FlowError as error:
        return await _page(request, "edoc/error.html", status_code=400, message=str(error))
    return redirect(f"/edoc/flows/{flow_id}")


@get("/flows/{flow_id:int}", name="edoc:flow", guards=ADMIN)
async def flow_page(request: Request, flow_id: int) -> Response:
    return await _flow_page(request, flow_id)


async def _flow_page(request: Request, flow_id: int, errors: dict | None = None, status_code: int = 200,
                     values: dict | None = None) -> Response:
    """The flow's form; after a refused change ``values`` are what was sent, so nothing typed is lost."""
    flow = next((f for f in await flows.flows_for_admin() if f["id"] == flow_id), None)
    if flow is None:
        return await _page(request, "edoc/error.html", status_code=404, message=_("No such flow."))
    try:
        await flows.check_administers(current_user(request), flow["unit"])
    except flows.NotYourUnit as refusal:
        return await _refused(request, refusal)
    return await _page(request, "edoc/flow.html", status_code=status_code, flow=flow, roles=ROLE_CODES, role_labels=role_labels(),
                        possible=flows.POSSIBLE_ACTIONS, errors=errors or {}, values=values)


@post("/flows/{flow_id:int}", name="edoc:flow_update", guards=ADMIN)
async def flow_update(request: Request, flow_id: int) -> Response:
    data = await request.form()
    form = {key: data.getall(key) if key.startswith("actions_") else data.get(key) for key in data.keys()}
    try:
        await flows.update_flow(current_user(request), portal_of(request), flow_id, form)
    except flows.NotYourUnit as refusal:
        return await _refused(request, refusal)
    except flows.FlowError as error:
        return await _flow_page(request, flow_id, error.errors, 400, values=form)
    return redirect(f"/edoc/flows/{flow_id}")


ROUTES = [index, done, new, create, document, print_history, edit, update, opinion, act, take, recall, publish, flow_list,
          flow_adopt, flow_page, flow_update]
