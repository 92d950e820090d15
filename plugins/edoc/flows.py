"""Flows as data (DOC-1, DOC-2, DOC-8): definitions in tables, the three defaults of the source,
and an administrator's adjustments per unit.

The structure of a flow (how many steps, what each step does, where its role is held) is the
engine's; an administrator adjusts what the source leaves to each unit: step names, the role
that acts and the actions a step allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from plugins.edoc.organisation import units_administered_by
from plugins.edoc.tables import Flow, FlowStep
from portal.db import write_transaction
from portal.i18n import gettext as _
from portal.roles import ROLE_CODES

KINDS = ("upward", "downward", "incoming")
# approve = pass on to the next step (submit at the draft step); the others are named alike.
ACTIONS = ("approve", "return", "countersign", "recall", "take", "number", "send")
# What each kind of step can allow at all; an administrator chooses among these.
POSSIBLE_ACTIONS = {
    "draft": ("approve", "recall"),
    "review": ("approve", "return", "countersign", "recall", "take"),
    "leaders": ("approve", "return", "recall"),
    "assign": ("approve", "return", "recall", "take"),
    "handle": ("approve", "recall", "take"),
    "number": ("number", "return", "recall", "take"),
    "send": ("send", "return", "take"),
    "end": (),
}
# The action that moves a step on, by kind.
FORWARD = {"draft": "approve", "review": "approve", "leaders": "approve", "assign": "approve",
           "handle": "approve", "number": "number", "send": "send"}


@dataclass(frozen=True)
class Step:
    id: int
    position: int
    kind: str
    name: str
    role: str
    scope: str
    actions: frozenset[str]

    def allows(self, action: str) -> bool:
        return action in self.actions


def _step(kind: str, name: str, role: str, scope: str, actions: str) -> dict:
    return {"kind": kind, "name": name, "role": role, "scope": scope, "actions": actions}


_OUTGOING_HEAD = [
    _step("draft", "拟稿", "staff", "drafter", "approve,recall"),
    _step("review", "部门负责人核稿", "department_head", "department", "approve,return,recall"),
    _step("review", "办公室负责人把关", "office_head", "office", "approve,return,recall,take"),
]
_OUTGOING_TAIL = [
    _step("number", "文印室登记编号排版", "print_room", "unit", "number,return,recall,take"),
    _step("send", "办公室秘书审核发送", "secretary", "office", "send,return,take"),
]
# The three flows exactly as 电子政务及电子公文操作管理办法 (第七条, 第十四条) describes them.
DEFAULT_FLOWS = {
    "upward": ("上行文", [
        *_OUTGOING_HEAD,
        _step("review", "主管局领导审阅", "leader", "unit", "approve,return,countersign,recall,take"),
        _step("review", "局长签发", "director", "unit", "approve,return,countersign,recall,take"),
        *_OUTGOING_TAIL,
    ]),
    "downward": ("下行文/平行文", [
        *_OUTGOING_HEAD,
        _step("review", "主管局领导签发", "leader", "unit", "approve,return,countersign,recall,take"),
        *_OUTGOING_TAIL,
    ]),
    "incoming": ("收文", [
        _step("draft", "秘书登记", "secretary", "drafter", "approve,recall"),
        _step("review", "办公室主任拟办", "office_head", "office", "approve,return,recall,take"),
        _step("review", "秘书", "secretary", "office", "approve,recall,take"),
        _step("leaders", "领导传阅", "leader", "unit", "approve,recall"),
        _step("assign", "秘书", "secretary", "office", "approve,recall,take"),
        _step("handle", "办理部门批办", "department_head", "handling", "approve,recall,take"),
        _step("review", "秘书", "secretary", "office", "approve,take"),
        _step("end", "结束", "", "", ""),
    ]),
}


def flow_kind(direction: str) -> str:
    """Parallel documents (平行文) follow the downward flow (DOC-2)."""
    return {"upward": "upward", "downward": "downward", "parallel": "downward", "incoming": "incoming"}[direction]


async def ensure_default_flows() -> None:
    """Store the default flows once (the first time any flow is needed)."""
    if await Flow.exists().where(Flow.unit.is_null()):
        return
    async with write_transaction():
        if await Flow.exists().where(Flow.unit.is_null()):
            return
        for kind, (name, steps) in DEFAULT_FLOWS.items():
            await _insert_flow(None, kind, name, steps)


async def _insert_flow(unit_id: int | None, kind: str, name: str, steps: list[dict]) -> int:
    flow_id = (await Flow.insert(Flow(unit=unit_id, kind=kind, name=name)).returning(Flow.id))[0]["id"]
    await FlowStep.insert(*[FlowStep(flow=flow_id, position=n, **step) for n, step in enumerate(steps)])
    return flow_id


async def flow_id_for(unit_id: int | None, direction: str) -> int:
    """The flow a new document of this unit and direction follows: the unit's own, else the default."""
    await ensure_default_flows()
    kind = flow_kind(direction)
    own = await Flow.select(Flow.id).where((Flow.unit == unit_id) & (Flow.kind == kind)).first() if unit_id else None
    if own:
        return own["id"]
    return (await Flow.select(Flow.id).where(Flow.unit.is_null() & (Flow.kind == kind)).first())["id"]


async def steps_of(flow_id: int) -> list[Step]:
    rows = await FlowStep.select().where(FlowStep.flow == flow_id).order_by(FlowStep.position)
    return [Step(r["id"], r["position"], r["kind"], r["name"], r["role"], r["scope"],
                 frozenset(a for a in r["actions"].split(",") if a)) for r in rows]


async def flows_for_admin(units: frozenset[int] | None = None) -> list[dict]:
    """The defaults and the flows of ``units`` (every unit's when None) with their steps, the
    defaults first, for the administrator's page."""
    await ensure_default_flows()
    flows = [f for f in await Flow.select().order_by(Flow.id) if units is None or f["unit"] is None or f["unit"] in units]
    flows.sort(key=lambda f: (f["unit"] is not None, f["unit"] or 0, KINDS.index(f["kind"])))
    for flow in flows:
        flow["steps"] = await steps_of(flow["id"])
    return flows


class FlowError(ValueError):
    """Bad input to a flow: ``errors`` maps a field to a message a person understands."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class NotYourUnit(PermissionError):
    """The flow is another unit's (or a default): its administrator adjusts it; ``str()`` says so."""


async def check_administers(actor, unit_id: int | None) -> None:
    """A unit's flows are adjusted by the administrator of that unit; the defaults, which every
    unit without its own follows, only by an administrator of every unit."""
    units = await units_administered_by(actor.id)
    if units is None:
        return
    if unit_id is None:
        raise NotYourUnit(_("The default flows are adjusted only by an administrator of every unit: adjust your unit's own copy."))
    if unit_id not in units:
        raise NotYourUnit(_("This flow belongs to another unit: only that unit's administrator adjusts it."))


async def adopt_flow(actor, portal, unit_id: int, kind: str) -> int:
    """The unit's own copy of the flow of ``kind``, made from the default when it has none."""
    from portal.accounts.tables import Unit

    await check_administers(actor, unit_id)
    if kind not in KINDS:
        raise FlowError({"kind": _("Choose a flow.")})
    if not await Unit.exists().where(Unit.id == unit_id):
        raise FlowError({"unit": _("No such unit.")})
    await ensure_default_flows()
    async with write_transaction():
        own = await Flow.select(Flow.id).where((Flow.unit == unit_id) & (Flow.kind == kind)).first()
        if own:
            return own["id"]
        default = await Flow.select().where(Flow.unit.is_null() & (Flow.kind == kind)).first()
        steps = await FlowStep.select(FlowStep.kind, FlowStep.name, FlowStep.role, FlowStep.scope, FlowStep.actions) \
            .where(FlowStep.flow == default["id"]).order_by(FlowStep.position)
        flow_id = await _insert_flow(unit_id, kind, default["name"], steps)
        await portal.audit("edoc.flow.adopt", actor=actor, target_type="edoc_flow", target_id=flow_id,
                           summary=f"{default['name']} → unit {unit_id}")
    return flow_id


NAME_RE = re.compile(r"^[^\x00-\x1f<>]{1,40}$")


async def update_flow(actor, portal, flow_id: int, form: dict[str, object]) -> None:
    """Change step names, roles and allowed actions. ``form`` holds ``name_<position>``,
    ``role_<position>`` and ``actions_<position>`` (a list) for each step."""
    flow = await Flow.select().where(Flow.id == flow_id).first()
    if flow is None:
        raise FlowError({"flow": _("No such flow.")})
    await check_administers(actor, flow["unit"])
    steps = await steps_of(flow_id)
    errors: dict[str, str] = {}
    changes: list[tuple[Step, dict]] = []
    for step in steps:
        if step.kind == "end":
            continue
        name = str(form.get(f"name_{step.position}", "")).strip()
        role = str(form.get(f"role_{step.position}", ""))
        actions = form.get(f"actions_{step.position}", [])
        actions = [actions] if isinstance(actions, str) else list(actions)
        if not NAME_RE.match(name):
            errors[f"name_{step.position}"] = _("A step name has 1 to 40 characters.")
        if role not in ROLE_CODES:
            errors[f"role_{step.position}"] = _("Choose a role.")
        possible = POSSIBLE_ACTIONS[step.kind]
        if any(a not in possible for a in actions):
            errors[f"actions_{step.position}"] = _("This step cannot allow that action.")
        elif FORWARD[step.kind] not in actions:
            errors[f"actions_{step.position}"] = _("A step must allow the action that moves it on.")
        changes.append((step, {"name": name, "role": role, "actions": ",".join(a for a in possible if a in actions)}))
    if errors:
        raise FlowError(errors)
    async with write_transaction():
        for step, values in changes:
            await FlowStep.update({FlowStep.name: values["name"], FlowStep.role: values["role"],
                                   FlowStep.actions: values["actions"]}).where(FlowStep.id == step.id)
        await Flow.update({Flow.updated_at: datetime.now(timezone.utc)}).where(Flow.id == flow_id)
        await portal.audit("edoc.flow.update", actor=actor, target_type="edoc_flow", target_id=flow_id, summary=flow["name"],
                           details={"steps": [{"position": s.position, **v} for s, v in changes]})
