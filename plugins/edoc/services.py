"""The document engine: drafting, the steps of a flow and the actions on them (DOC-1 … DOC-9).

Every action runs in ``write_transaction()`` and first closes the acting task with an UPDATE
that only matches while it is still open (``completed_at IS NULL``): of two people acting at
once, one wins and the other is told the step was done.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from plugins.edoc import attachments, handling, numbering, publishing
from plugins.edoc import organisation as org
from plugins.edoc.attachments import AccessRules
from plugins.edoc.display import when
from plugins.edoc.flows import Step, flow_id_for, steps_of
from plugins.edoc.parts_tables import Publication
from plugins.edoc.tables import Document, Task
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.localtime import today

# The 15 types of 党政机关公文处理工作条例 (2012).
DOC_TYPES = ("决议", "决定", "命令(令)", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示", "批复", "议案", "函", "纪要")
DIRECTIONS = ("upward", "downward", "parallel")
URGENCIES = ("normal", "urgent", "very_urgent")
CLASSIFICATIONS = ("public", "internal", "secret", "confidential", "top_secret")
SECRET_CLASSIFICATIONS = ("secret", "confidential", "top_secret")
MAX_BODY = 50_000
MAX_OPINION = 2_000


class EdocError(Exception):
    status_code = 400

    def __init__(self, message: str, errors: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class Invalid(EdocError):
    status_code = 400


class NotYours(EdocError):
    """The user does not hold the step (or may not see the document)."""

    status_code = 403


class Missing(EdocError):
    status_code = 404


class StateChanged(EdocError):
    """The step was done, recalled or opened meanwhile."""

    status_code = 409


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class DraftForm:
    doc_type: str
    direction: str
    title: str
    main_recipients: str = ""
    copy_recipients: str = ""
    urgency: str = "normal"
    classification: str = "public"
    body: str = ""
    has_attachments: bool = False
    source: str = ""

    def errors(self, incoming: bool) -> dict[str, str]:
        errors = {}
        if self.doc_type not in DOC_TYPES:
            errors["doc_type"] = _("Choose a document type.")
        if not incoming and self.direction not in DIRECTIONS:
            errors["direction"] = _("Choose a direction.")
        if not 1 <= len(self.title.strip()) <= 200:
            errors["title"] = _("A title has 1 to 200 characters.")
        if len(self.main_recipients) > 500 or len(self.copy_recipients) > 500 or len(self.source) > 200:
            errors["main_recipients"] = _("Recipients and source have at most 500 characters.")
        if self.urgency not in URGENCIES:
            errors["urgency"] = _("Choose an urgency.")
        if self.classification not in CLASSIFICATIONS:
            errors["classification"] = _("Choose a classification.")
        if len(self.body) > MAX_BODY:
            errors["body"] = _("The body has at most 50,000 characters.")
        if incoming and not self.source.strip():
            errors["source"] = _("Name the unit the document comes from.")
        return errors

    def values(self) -> dict:
        return {Document.doc_type: self.doc_type, Document.title: self.title.strip(),
                Document.main_recipients: self.main_recipients.strip(), Document.copy_recipients: self.copy_recipients.strip(),
                Document.urgency: self.urgency, Document.classification: self.classification,
                Document.body: self.body.replace("\r\n", "\n"), Document.has_attachments: self.has_attachments,
                Document.source: self.source.strip()}


# Reading -----------------------------------------------------------------------------------


async def load(document_id: int) -> dict:
    row = await Document.select().where(Document.id == document_id).first()
    if row is None:
        raise Missing(_("No such document."))
    return row


async def open_task(document_id: int) -> dict | None:
    return await Task.select().where((Task.document == document_id) & Task.completed_at.is_null()).order_by(Task.id).first()


def _in_scope(task: dict, scopes: list[org.RoleScope]) -> bool:
    return any(s.role == task["role"] and s.unit_id == task["scope_unit"]
               and (task["scope_department"] is None or s.department_id == task["scope_department"]) for s in scopes)


def holds(user, task: dict, scopes: list[org.RoleScope]) -> bool:
    """The user may act on the task: his own, or his role's and not taken by another (DOC-9)."""
    if task["assignee"] is not None:
        return task["assignee"] == user.id
    if task["taken_by"] is not None and task["taken_by"] != user.id:
        return False
    return _in_scope(task, scopes)


async def can_view(user, document: dict, scopes: list[org.RoleScope], task: dict | None) -> bool:
    if user.is_admin or document["drafter"] == user.id:
        return True
    if task is not None and (task["assignee"] == user.id or (task["role"] and _in_scope(task, scopes))):
        return True
    return await Task.exists().where((Task.document == document["id"]) & (
        (Task.assignee == user.id) | (Task.taken_by == user.id) | (Task.completed_by == user.id)))


def drafting(user, task: dict | None) -> bool:
    """The document is with its drafter at the first step: drafted, returned or recalled to him."""
    return task is not None and task["position"] == 0 and task["assignee"] == user.id


async def may_read_attachments(user, document_id: int) -> bool:
    """DOC-5: whoever may see the document reads its attachments."""
    document = await Document.select().where(Document.id == document_id).first()
    return document is not None and await can_view(user, document, await org.scopes_of(user.id), await open_task(document_id))


async def may_edit_attachments(user, document_id: int) -> bool:
    """DOC-5: the drafter adds and replaces attachments while the document is with him."""
    return drafting(user, await open_task(document_id))


ATTACHMENT_RULES = AccessRules(can_read=may_read_attachments, can_edit=may_edit_attachments)


def actions_of(step: Step, task: dict) -> list[str]:
    """What the holder of ``task`` may do: the step's actions, shaped by the countersign phase (DOC-6)."""
    if task["phase"] == "countersign":
        return ["countersign", "to_secretary"] + (["return"] if step.allows("return") else [])
    if task["phase"] == "secretary":
        return ["approve"]
    if task["phase"] == "office":
        return ["approve"] + (["return"] if step.allows("return") else [])
    return [a for a in ("approve", "number", "send", "countersign", "return") if step.allows(a)]


async def department_reviewer(drafter_id: int, unit_id: int | None, department_id: int | None) -> tuple[int | None, str]:
    """DOC-3: the head of the drafter's department; another head when the drafter is one; the
    drafter himself when he is its only head. The step is never skipped. Returns (user, rule)."""
    heads = await org.holders("department_head", unit_id, department_id) if department_id else []
    if not heads:
        return None, "none"
    if drafter_id in heads:
        others = [h for h in heads if h != drafter_id]
        return (others[0], "another") if others else (drafter_id, "self")
    return heads[0], "head"


async def reviewer_explanation(document: dict) -> str:
    user_id, rule = await department_reviewer(document["drafter"], document["unit"], document["department"])
    department = await org.department_name(document["department"])
    name = (await org.names_of([user_id])).get(user_id, "")
    if rule == "head":
        return _("The department head review goes to %(name)s, head of %(department)s.") % {"name": name, "department": department}
    if rule == "another":
        return _("You are a head of %(department)s, so another head, %(name)s, reviews it.") % {"name": name, "department": department}
    if rule == "self":
        return _("You are the only head of %(department)s, so you review it yourself: the step is never skipped.") % {"department": department}
    return _("Your department has no head, so the document cannot be submitted: ask the administrator to name one.")


async def document_view(user, document_id: int) -> dict:
    """Everything the document page shows; opening it marks the current step as opened (DOC-7)."""
    document = await load(document_id)
    scopes = await org.scopes_of(user.id)
    task = await open_task(document_id)
    if not await can_view(user, document, scopes, task):
        raise NotYours(_("You may not see this document."))
    steps = await steps_of(document["flow"])
    mine = task is not None and holds(user, task, scopes)
    if mine and task["opened_at"] is None:
        async with write_transaction():
            await Task.update({Task.opened_at: _now()}).where((Task.id == task["id"]) & Task.opened_at.is_null())
    step = steps[task["position"]] if task else None
    view = {"document": document, "task": task, "step": step, "steps": steps, "mine": mine,
            "actions": actions_of(step, task) if mine else [], "can_take": False, "history": await history(document_id),
            "can_recall": await _may_recall(user, task, steps), "leaders": [], "departments": [], "explanation": "",
            "names": {}}
    if task is not None:
        view["can_take"] = bool(task["role"]) and task["taken_by"] is None and _in_scope(task, scopes) and step.allows("take")
        view["names"] = await org.names_of([task["assignee"], task["taken_by"], task["sent_by"]])
    if mine and "countersign" in view["actions"]:
        signed = await _signed_in_round(document_id, task)
        view["leaders"] = [(uid, name) for uid, name in (await org.names_of(await org.holders("leader", document["unit"]))).items()
                           if uid != user.id and uid not in signed]
    if mine and step.kind == "assign":
        view["departments"] = await org.departments_of(document["unit"])
    if document["direction"] != "incoming" and document["position"] == 0:
        view["explanation"] = await reviewer_explanation(document)
    view["handling_department"] = await org.department_name(document["handling_department"])
    view["attachments"] = await attachments.attachments_of(document_id)
    view["can_attach"] = drafting(user, task)
    publication = await Publication.select(Publication.published_at).where(Publication.document == document_id).first()
    view["published_at"] = when(publication["published_at"]) if publication else ""
    view["can_publish"] = not publication and publishable(user, document)
    view["classified"] = document["classification"] not in publishing.PUBLISHABLE
    return view


def publishable(user, document: dict) -> bool:
    """The office (edoc.publish) publishes an incoming document once it is finished (DOC-10, DOC-13)."""
    return user.can("edoc.publish") and document["direction"] == "incoming" and document["status"] == "finished"


async def publish(user, document_id: int, portal) -> int:
    """Publish the document on the portal home page; a classified one is refused (DOC-12)."""
    document = await load(document_id)
    if not await can_view(user, document, await org.scopes_of(user.id), await open_task(document_id)):
        raise NotYours(_("You may not see this document."))
    if not user.can("edoc.publish"):
        raise NotYours(_("You may not publish documents."))
    if not publishable(user, document):
        raise StateChanged(_("Only a finished incoming document can be published."))
    try:
        return await publishing.publish(portal, user, document)
    except publishing.PublishRefused as refused:
        raise Invalid(str(refused), {"classification": "classified"}) from None


async def history(document_id: int) -> list[dict]:
    return await Task.select(
        Task.id, Task.step_name, Task.phase, Task.role, Task.opinion, Task.opinion_at, Task.created_at, Task.opened_at,
        Task.completed_at, Task.action, Task.assignee.display_name.as_alias("assignee_name"),
        Task.taken_by.display_name.as_alias("taken_by_name"), Task.completed_by.display_name.as_alias("actor_name"),
    ).where(Task.document == document_id).order_by(Task.id)


def _task_columns():
    return (Task.id, Task.document, Task.step_name, Task.phase, Task.role, Task.created_at, Task.opened_at, Task.completed_at,
            Task.action, Task.taken_by, Task.taken_by.display_name.as_alias("taken_by_name"),
            Task.document.title.as_alias("title"), Task.document.doc_type.as_alias("doc_type"),
            Task.document.urgency.as_alias("urgency"), Task.document.number.as_alias("number"),
            Task.document.direction.as_alias("direction"), Task.document.status.as_alias("status"),
            Task.document.drafter.display_name.as_alias("drafter_name"))


async def todo(user) -> list[dict]:
    """待办: open steps held by the user or by one of his roles in its scope (DOC-9)."""
    condition = Task.assignee == user.id
    for s in await org.scopes_of(user.id):
        department = Task.scope_department.is_null()
        if s.department_id is not None:
            department = department | (Task.scope_department == s.department_id)
        condition = condition | ((Task.role == s.role) & (Task.scope_unit == s.unit_id) & department)
    return await Task.select(*_task_columns()).where(Task.completed_at.is_null() & condition) \
        .order_by(Task.id, ascending=False).limit(200)


async def done(user) -> list[dict]:
    """已办: the documents the user acted on, the latest action of each."""
    rows = await Task.select(*_task_columns()).where(Task.completed_by == user.id).order_by(Task.id, ascending=False).limit(500)
    seen, latest = set(), []
    for row in rows:
        if row["document"] not in seen:
            seen.add(row["document"])
            latest.append(row)
    return latest[:100]


async def drafted_by(user) -> list[dict]:
    return await Document.select().where(Document.drafter == user.id).order_by(Document.id, ascending=False).limit(100)


# Drafting ----------------------------------------------------------------------------------


async def create_draft(user, form: DraftForm, portal, incoming: bool = False) -> int:
    """A new document with its drafter at the first step (拟稿, or 秘书登记 for incoming ones)."""
    if incoming and "secretary" not in user.roles:
        raise NotYours(_("Only a secretary registers incoming documents."))
    if incoming:
        form.direction = "incoming"
    errors = form.errors(incoming)
    if user.unit_id is None:
        errors["unit"] = _("Your account belongs to no unit.")
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    flow_id = await flow_id_for(user.unit_id, form.direction)
    first = (await steps_of(flow_id))[0]
    async with write_transaction():
        rows = await Document.insert(Document(
            drafter=user.id, direction=form.direction, unit=user.unit_id, department=user.department_id, flow=flow_id,
        )).returning(Document.id)
        document_id = rows[0]["id"]
        await Document.update(form.values()).where(Document.id == document_id)
        await Task.insert(Task(document=document_id, position=0, step_name=first.name, assignee=user.id, opened_at=_now()))
        await portal.audit("edoc.document.create", actor=user, target_type="edoc_document", target_id=document_id,
                           summary=form.title.strip())
    return document_id


async def update_draft(user, document_id: int, form: DraftForm, portal) -> None:
    """The drafter edits the document while it is with him at the first step (new or returned)."""
    document = await load(document_id)
    incoming = document["direction"] == "incoming"
    form.direction = document["direction"] if incoming or document["status"] != "draft" else form.direction
    errors = form.errors(incoming)
    if errors:
        raise Invalid(next(iter(errors.values())), errors)
    async with write_transaction():
        task = await open_task(document_id)
        if task is None or task["position"] != 0 or task["assignee"] != user.id:
            raise NotYours(_("Only the drafter edits a document, while it is with him."))
        values = form.values()
        if form.direction != document["direction"]:
            values[Document.direction] = form.direction
            values[Document.flow] = await flow_id_for(document["unit"], form.direction)
        values[Document.updated_at] = _now()
        await Document.update(values).where(Document.id == document_id)
        await portal.audit("edoc.document.edit", actor=user, target_type="edoc_document", target_id=document_id,
                           summary=form.title.strip())


# Acting on a step ---------------------------------------------------------------------------


async def _held_task(user, document_id: int, task_id: int) -> tuple[dict, dict]:
    task = await Task.select().where((Task.id == task_id) & (Task.document == document_id)).first()
    if task is None:
        raise Missing(_("No such step."))
    if task["completed_at"] is not None:
        raise StateChanged(_("This step has already been done."))
    if not holds(user, task, await org.scopes_of(user.id)):
        raise NotYours(_("This step is not yours to act on."))
    return await load(document_id), task


async def save_opinion(user, document_id: int, task_id: int, text: str) -> None:
    """DOC-4: the opinion of the step, saved before the step can move on."""
    text = text.strip()
    if not 1 <= len(text) <= MAX_OPINION:
        raise Invalid(_("Write an opinion of 1 to 2,000 characters."), {"opinion": "length"})
    async with write_transaction():
        task = (await _held_task(user, document_id, task_id))[1]
        values = {Task.opinion: text, Task.opinion_at: _now()}
        if task["role"] and task["taken_by"] is None:
            values[Task.taken_by] = user.id
        if task["opened_at"] is None:
            values[Task.opened_at] = _now()
        await Task.update(values).where((Task.id == task_id) & Task.completed_at.is_null())


async def take(user, document_id: int, task_id: int, portal) -> None:
    """DOC-9: one holder of a role takes the document from the role's inbox; the others see who."""
    async with write_transaction():
        document, task = await _held_task(user, document_id, task_id)
        step = (await steps_of(document["flow"]))[task["position"]]
        if not task["role"] or not step.allows("take"):
            raise NotYours(_("This step cannot be taken from an inbox."))
        rows = await Task.update({Task.taken_by: user.id, Task.opened_at: task["opened_at"] or _now()}).where(
            (Task.id == task_id) & Task.taken_by.is_null() & Task.completed_at.is_null()).returning(Task.id)
        if not rows:
            raise StateChanged(_("Someone else has taken it."))
        await portal.audit("edoc.document.take", actor=user, target_type="edoc_document", target_id=document_id,
                           summary=task["step_name"])


async def act(user, document_id: int, task_id: int, action: str, portal, *, reason: str = "",
              return_to: int | None = None, countersigner: int | None = None, department: int | None = None) -> None:
    """Do ``action`` on the step ``task_id`` the user holds, and hand the document on."""
    async with write_transaction():
        document, task = await _held_task(user, document_id, task_id)
        steps = await steps_of(document["flow"])
        step = steps[task["position"]]
        if action not in actions_of(step, task):
            raise NotYours(_("This step does not allow that action."))
        if action == "return":
            reason = reason.strip()
            if not 1 <= len(reason) <= MAX_OPINION:
                raise Invalid(_("Give the reason for returning it."), {"reason": "length"})
        elif step.kind != "draft" and not task["opinion"].strip():
            raise Invalid(_("Save your opinion first: without it the step is not done."), {"opinion": "missing"})
        if action != "return" and task["role"] == "office_head" and document["has_attachments"] \
                and not await attachments.has_attachments(document_id):
            raise Invalid(_("The document is marked as having attachments, but none is attached: return it to the drafter "
                            "(退回) so that he attaches them."), {"attachments": "missing"})
        closed = {Task.completed_at: _now(), Task.completed_by: user.id, Task.action: action}
        if action == "return":
            closed.update({Task.opinion: reason, Task.opinion_at: _now()})
        if task["role"] and task["taken_by"] is None:
            closed[Task.taken_by] = user.id
        rows = await Task.update(closed).where((Task.id == task_id) & Task.completed_at.is_null()).returning(Task.id)
        if not rows:
            raise StateChanged(_("This step has already been done."))
        task = {**task, "completed_by": user.id}
        await _dispatch(user, document, steps, step, task, action, return_to=return_to, countersigner=countersigner,
                        department=department)
        await portal.audit(f"edoc.document.{action}", actor=user, target_type="edoc_document", target_id=document_id,
                           summary=f"{step.name}: {document['title']}"[:300])


async def _dispatch(user, document: dict, steps: list[Step], step: Step, task: dict, action: str, *,
                    return_to: int | None, countersigner: int | None, department: int | None) -> None:
    position = task["position"]
    if action == "return":
        if return_to is None or not 0 <= return_to < position:
            raise Invalid(_("Choose an earlier step to return it to."), {"return_to": "range"})
        await _enter(document, steps, return_to, task)
    elif action == "countersign":
        await _countersign(user, document, step, task, countersigner)
    elif action == "to_secretary":
        await _to_role(document, task, step, "secretary", "secretary", await org.office_of(document["unit"]))
    elif task["phase"] == "secretary":
        await _to_role(document, task, step, "office", "office_head", await org.office_of(document["unit"]))
    elif action == "send":
        await Document.update({Document.status: "sent", Document.updated_at: _now()}).where(Document.id == document["id"])
    elif step.kind == "leaders":
        await _next_leader(document, steps, step, task)
    else:
        if action == "number" and not document["number"]:
            number = await _register_number(document)
            await Document.update({Document.number: number}).where(Document.id == document["id"])
        if step.kind == "assign":
            if department not in {d["id"] for d in await org.departments_of(document["unit"])}:
                raise Invalid(_("Choose the department that handles it."), {"department": "missing"})
            await Document.update({Document.handling_department: department}).where(Document.id == document["id"])
            document = {**document, "handling_department": department}
        if step.kind == "handle":
            await handling.finish_handling(document["id"], document["handling_department"])
        if step.kind == "draft" and document["direction"] != "incoming":
            user_id, _rule = await department_reviewer(document["drafter"], document["unit"], document["department"])
            if user_id is None:
                raise Invalid(_("Your department has no head, so the document cannot be submitted: ask the administrator to name one."))
        await _enter(document, steps, position + 1, task)


async def _register_number(document: dict) -> str:
    """The print room's registration (文印室登记编号): the next number of the unit's sequence for
    the year (DOC-11). Called inside the acting transaction, so a refused step gives it back."""
    return await numbering.next_number(document["unit"], today().year)


async def _new_task(document: dict, position: int, step_name: str, sender: dict, *, phase: str = "",
                    assignee: int | None = None, role: str = "", department: int | None = None) -> None:
    await Task.insert(Task(document=document["id"], position=position, phase=phase, step_name=step_name,
                           assignee=assignee, role=role, scope_unit=document["unit"] if role else None,
                           scope_department=department, sent_from=sender["id"], sent_by=sender["completed_by"]))
    status = "draft" if position == 0 else "in_progress"
    await Document.update({Document.position: position, Document.status: status, Document.updated_at: _now()}) \
        .where(Document.id == document["id"])


async def _enter(document: dict, steps: list[Step], position: int, sender: dict) -> None:
    """Hand the document to the step at ``position``: a person or a role inbox."""
    step = steps[position]
    if step.kind == "end":
        await Document.update({Document.position: position, Document.status: "finished", Document.updated_at: _now()}) \
            .where(Document.id == document["id"])
        return
    if step.scope == "drafter":
        await _new_task(document, position, step.name, sender, assignee=document["drafter"])
    elif step.scope == "department":
        reviewer, _rule = await department_reviewer(document["drafter"], document["unit"], document["department"])
        if reviewer is None:
            raise Invalid(_("Your department has no head, so the document cannot be submitted: ask the administrator to name one."))
        await _new_task(document, position, step.name, sender, assignee=reviewer)
    elif step.kind == "leaders":
        leaders = await org.holders(step.role, document["unit"])
        if not leaders:
            raise Invalid(_("No one holds the role this step needs: ask the administrator."))
        await _new_task(document, position, step.name, sender, assignee=leaders[0])
    else:
        department = {"office": await org.office_of(document["unit"]), "handling": document["handling_department"]}.get(step.scope)
        await _to_role(document, sender, step, "", step.role, department, position=position)
        if step.kind == "handle":
            await handling.start_handling(document["id"], department)  # the deadline counts from now (DOC-10)


async def _to_role(document: dict, sender: dict, step: Step, phase: str, role: str, department: int | None,
                   position: int | None = None) -> None:
    """A role inbox (DOC-9): every holder of ``role`` in the scope sees it."""
    if not await org.holders(role, document["unit"], department):
        raise Invalid(_("No one holds the role this step needs: ask the administrator."))
    await _new_task(document, sender["position"] if position is None else position, step.name, sender, phase=phase,
                    role=role, department=department)


async def _signed_in_round(document_id: int, task: dict) -> set[int]:
    """Leaders who already signed this step since the document last reached it (DOC-6)."""
    rows = await Task.select(Task.completed_by, Task.assignee, Task.phase, Task.sent_from).where(
        (Task.document == document_id) & (Task.position == task["position"]) & (Task.id <= task["id"])
    ).order_by(Task.id)
    signed: set[int] = set()
    for row in rows:
        if row["phase"] == "":
            signed = set()
        signed |= {row["assignee"], row["completed_by"]} - {None}
    return signed


async def _countersign(user, document: dict, step: Step, task: dict, countersigner: int | None) -> None:
    """转交相关领导: another leader of the unit signs next (DOC-6)."""
    leaders = await org.holders("leader", document["unit"])
    if countersigner not in leaders or countersigner == user.id or countersigner in await _signed_in_round(document["id"], task):
        raise Invalid(_("Choose another leader who has not signed it yet."), {"countersigner": "invalid"})
    await _new_task(document, task["position"], step.name, task, phase="countersign", assignee=countersigner)


async def _next_leader(document: dict, steps: list[Step], step: Step, task: dict) -> None:
    """收文: each leader in turn until all have read it (DOC-8), then the next step."""
    read = {r["completed_by"] for r in await Task.select(Task.completed_by).where(
        (Task.document == document["id"]) & (Task.position == task["position"]) & (Task.action == "approve"))}
    waiting = [leader for leader in await org.holders(step.role, document["unit"]) if leader not in read]
    if waiting:
        await _new_task(document, task["position"], step.name, task, assignee=waiting[0])
    else:
        await _enter(document, steps, task["position"] + 1, task)


async def _may_recall(user, task: dict | None, steps: list[Step]) -> bool:
    if task is None or task["sent_by"] != user.id or task["opened_at"] is not None or task["sent_from"] is None:
        return False
    sender = await Task.select(Task.position).where(Task.id == task["sent_from"]).first()
    return sender is not None and steps[sender["position"]].allows("recall")


async def recall(user, document_id: int, portal) -> None:
    """收回 (DOC-7): the sender takes the document back while its receiver has not opened it."""
    async with write_transaction():
        document = await load(document_id)
        task = await open_task(document_id)
        steps = await steps_of(document["flow"])
        if task is None:
            raise StateChanged(_("The document is no longer on its way."))
        if task["sent_by"] != user.id or not await _may_recall(user, {**task, "opened_at": None}, steps):
            raise NotYours(_("Only who sent it may recall it."))
        rows = await Task.update({Task.completed_at: _now(), Task.completed_by: user.id, Task.action: "recalled"}).where(
            (Task.id == task["id"]) & Task.completed_at.is_null() & Task.opened_at.is_null()).returning(Task.id)
        if not rows:
            raise StateChanged(_("The receiver has already opened it: it can no longer be recalled."))
        previous = await Task.select().where(Task.id == task["sent_from"]).first()
        department = document["handling_department"]
        if steps[task["position"]].kind == "handle":
            await handling.withdraw_handling(document_id, department)
        elif steps[previous["position"]].kind == "handle":
            await handling.reopen_handling(document_id, department)
        await Task.insert(Task(document=document_id, position=previous["position"], phase=previous["phase"],
                               step_name=previous["step_name"], assignee=user.id, opinion=previous["opinion"],
                               opinion_at=previous["opinion_at"], opened_at=_now(), sent_from=task["id"]))
        await Document.update({Document.position: previous["position"],
                               Document.status: "draft" if previous["position"] == 0 else "in_progress",
                               Document.updated_at: _now()}).where(Document.id == document_id)
        await portal.audit("edoc.document.recall", actor=user, target_type="edoc_document", target_id=document_id,
                           summary=task["step_name"])

