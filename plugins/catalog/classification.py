"""Keeping the classification trees (CAT-1): the province's big-data bureau (which organises the
catalog work of the whole province, art. 15) adds nodes, renames them and retires them.

A node is never deleted or recoded once made: resources and filed versions carry its code. A
retired node keeps what is classified under it and takes nothing new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugins.catalog import access, coding
from plugins.catalog.errors import Conflict, Forbidden, Invalid, NotFound
from plugins.catalog.tables import Classification
from portal.accounts.tables import Unit
from portal.api import CurrentUser
from portal.db import write_transaction
from portal.i18n import gettext as _

# The digits a child adds to its parent's code, by the child's level.
SEGMENT = {2: re.compile(r"^\d{2}$"), 3: re.compile(r"^\d{3}$"), 4: re.compile(r"^\d{1,6}$")}
MAX_NAME = 100


async def can_classify(user: CurrentUser) -> bool:
    """Administrators, and the reviewers of a province-level unit (the province's bureau)."""
    if user.is_admin:
        return True
    units = await access.reviewed_units(user)
    return bool(units) and await Unit.exists().where(Unit.id.is_in(units) & (Unit.level == "province"))


async def _require(user: CurrentUser) -> None:
    if not await can_classify(user):
        raise Forbidden(_("Only the province's big-data bureau keeps the classification trees."))


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        message = _("Enter a name of at most %(count)d characters.") % {"count": MAX_NAME}
        raise Invalid(message, {"name": message})
    return name


@dataclass
class NodeForm:
    parent_id: str = ""
    segment: str = ""
    name: str = ""


async def add_node(user: CurrentUser, form: NodeForm, portal) -> int:
    """A new node under ``parent_id`` whose code is the parent's code and ``segment``."""
    await _require(user)
    errors = {}
    parent_id = int(form.parent_id) if form.parent_id.strip().isdigit() and len(form.parent_id.strip()) < 10 else None
    parent = await Classification.select().where(Classification.id == parent_id).first() if parent_id else None
    if parent is None or parent["level"] >= 4:
        errors["parent_id"] = _("Choose the node to add under (a 类, 项 or 目).")
    segment = form.segment.strip()
    if parent is not None and parent["level"] < 4 and not SEGMENT[parent["level"] + 1].match(segment):
        errors["segment"] = {2: _("A 项 adds two digits."), 3: _("A 目 adds three digits."),
                             4: _("A 细目 adds one to six digits.")}[parent["level"] + 1]
    try:
        name = _clean_name(form.name)
    except Invalid as error:
        errors.update(error.errors)
    if errors:
        raise Invalid(_("Correct the marked fields."), errors)
    code = parent["code"] + segment
    async with write_transaction():
        if await Classification.exists().where(Classification.code == code):
            raise Invalid(_("The code %(code)s is taken.") % {"code": code}, {"segment": _("The code %(code)s is taken.") % {"code": code}})
        siblings = await Classification.count().where(Classification.parent == parent["id"])
        rows = await Classification.insert(Classification(tree=parent["tree"], code=code, level=coding.level_of(code), name=name,
                                                          parent=parent["id"], position=siblings + 1)).returning(Classification.id)
        await portal.audit("catalog.classification.add", actor=user, target_type="catalog_classification",
                           target_id=rows[0]["id"], summary=f"{code} {name}")
    return rows[0]["id"]


async def rename(user: CurrentUser, node_id: int, name: str, portal) -> None:
    await _require(user)
    name = _clean_name(name)
    async with write_transaction():
        node = await Classification.select().where(Classification.id == node_id).first()
        if node is None:
            raise NotFound(_("No such classification."))
        await Classification.update({Classification.name: name}).where(Classification.id == node_id)
        await portal.audit("catalog.classification.rename", actor=user, target_type="catalog_classification", target_id=node_id,
                           summary=f"{node['code']} {node['name']} → {name}")


async def set_retired(user: CurrentUser, node_id: int, retired: bool, portal) -> None:
    """Retire a node (no new resources under it) or bring it back; a 类 stays."""
    await _require(user)
    async with write_transaction():
        node = await Classification.select().where(Classification.id == node_id).first()
        if node is None:
            raise NotFound(_("No such classification."))
        if node["level"] == 1:
            raise Conflict(_("The three catalog trees themselves are never retired."))
        await Classification.update({Classification.retired: retired}).where(Classification.id == node_id)
        await portal.audit(f"catalog.classification.{'retire' if retired else 'restore'}", actor=user,
                           target_type="catalog_classification", target_id=node_id, summary=f"{node['code']} {node['name']}")
