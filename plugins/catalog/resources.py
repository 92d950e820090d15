"""A department's working catalog: compiling resources and their data items (CAT-1).

Editors of a department create, edit and remove its resources; while a filing of the catalog is
under review the catalog is locked. Every field is checked and every fault named at once
(``ResourceForm.errors``), so the page can show them beside the fields with what was typed.
A resource removed after it was approved stays, marked ``withdrawn``, until the next approved
version drops it: the approved catalog does not change before the bureau agreed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from plugins.catalog import access, coding
from plugins.catalog.errors import Conflict, Invalid, NotFound
from plugins.catalog.tables import Classification, DataItem, Filing, FilingItem, Resource
from plugins.catalog.vocabulary import (DATA_TYPES, FORMATS, OPEN_TYPES, SECRECY_LEVELS, SHARE_METHODS, SHARE_TYPES,
                                        UPDATE_CYCLES)
from portal.api import CurrentUser
from portal.db import write_transaction
from portal.i18n import gettext as _

MAX_NAME = 200
MAX_PROVIDER = 100
MAX_ABSTRACT = 2000
MAX_CONDITIONS = 2000
MAX_FORMAT_DETAIL = 60
MAX_RELATED = 20
MAX_ITEMS = 200
MAX_ITEM_NAME = 100
MAX_ITEM_DESCRIPTION = 500
MAX_ITEM_LENGTH = 1_000_000
# Structured formats describe their data items (信息项); documents and media need not.
ITEMS_REQUIRED = ("database", "spreadsheet", "structured", "api")

# 统一社会信用代码 (GB 32100-2015): 18 characters of this alphabet, the last a check character.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ITEM_FIELD = re.compile(r"^item-(\d{1,3})-(name|data_type|length|description)$")


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def valid_uscc(code: str) -> bool:
    return (len(code) == 18 and all(c in USCC_ALPHABET for c in code)
            and uscc_check_character(code[:17]) == code[17])


@dataclass
class ItemForm:
    name: str = ""
    data_type: str = "string"
    length: str = ""
    description: str = ""

    def blank(self) -> bool:
        return not (self.name.strip() or self.length.strip() or self.description.strip())


@dataclass
class ResourceForm:
    """What an editor typed, as typed (strings), so a refused form is shown again unchanged."""

    name: str = ""
    classification_id: str = ""
    basic_classification_id: str = ""
    thematic_classification_id: str = ""
    provider: str = ""
    provider_code: str = ""
    abstract: str = ""
    format: str = "database"
    format_detail: str = ""
    share_type: str = "conditional"
    share_conditions: str = ""
    share_method: str = "platform_api"
    open_type: str = "closed"
    open_conditions: str = ""
    update_cycle: str = "irregular"
    published_on: str = ""
    related_codes: str = ""
    secrecy: str = "internal"
    items: list[ItemForm] = field(default_factory=list)

    TEXT_FIELDS = ("name", "classification_id", "basic_classification_id", "thematic_classification_id", "provider",
                   "provider_code", "abstract", "format", "format_detail", "share_type", "share_conditions", "share_method",
                   "open_type", "open_conditions", "update_cycle", "published_on", "related_codes", "secrecy")

    @classmethod
    def from_mapping(cls, form) -> ResourceForm:
        """From a submitted form: each value cut a little past its limit (so "too long" is still
        said, without keeping megabytes), data item rows ``item-<n>-<field>`` in order of n."""
        values = {name: str(form.get(name, ""))[:MAX_ABSTRACT + 1] for name in cls.TEXT_FIELDS}
        rows: dict[int, dict[str, str]] = {}
        for key in form.keys():
            match = ITEM_FIELD.match(key)
            if match:
                rows.setdefault(int(match[1]), {})[match[2]] = str(form.get(key, ""))[:MAX_ITEM_DESCRIPTION + 1]
        items = [ItemForm(**rows[n]) for n in sorted(rows)][:MAX_ITEMS + 1]
        return cls(**values, items=[item for item in items if not item.blank()])

    @classmethod
    def from_resource(cls, resource: dict, items: list[dict]) -> ResourceForm:
        def text(value) -> str:
            return "" if value is None else str(value)

        return cls(**{name: text(resource.get(name.removesuffix("_id"))) for name in cls.TEXT_FIELDS},
                   items=[ItemForm(i["name"], i["data_type"], text(i["length"]), i["description"]) for i in items])

    async def errors(self, own_code: str = "") -> dict[str, str]:
        """Every fault, by field name (data items: ``items.<row>.<field>``)."""
        errors: dict[str, str] = {}
        _required_text(errors, "name", self.name, MAX_NAME, _("Enter the name of the resource."))
        _required_text(errors, "provider", self.provider, MAX_PROVIDER, _("Enter the provider (信息资源提供方)."))
        _required_text(errors, "abstract", self.abstract, MAX_ABSTRACT, _("Describe the resource in an abstract (摘要)."))
        code = self.provider_code.strip().upper()
        if not code:
            errors["provider_code"] = _("Enter the provider's unified social credit code (统一社会信用代码).")
        elif not valid_uscc(code):
            errors["provider_code"] = _("A unified social credit code has 18 characters (digits and capitals without I, O, S, V, Z) and ends with its check character.")
        await _check_classifications(errors, self)
        _choice(errors, "format", self.format, FORMATS, _("Choose a format."))
        if len(self.format_detail.strip()) > MAX_FORMAT_DETAIL:
            errors["format_detail"] = _("At most %(count)d characters.") % {"count": MAX_FORMAT_DETAIL}
        self._share_errors(errors)
        _choice(errors, "update_cycle", self.update_cycle, UPDATE_CYCLES, _("Choose an update cycle."))
        if self.published_on.strip() and _date(self.published_on) is None:
            errors["published_on"] = _("Enter a date as YYYY-MM-DD.")
        self._related_errors(errors, own_code)
        self._item_errors(errors)
        return errors

    def _share_errors(self, errors: dict[str, str]) -> None:
        _choice(errors, "share_type", self.share_type, SHARE_TYPES, _("Choose a share type."))
        if self.share_type == "conditional" and not self.share_conditions.strip():
            errors["share_conditions"] = _("Conditional sharing needs its conditions of use (共享条件).")
        elif self.share_type == "none" and not self.share_conditions.strip():
            errors["share_conditions"] = _("Name the law or regulation that does not allow sharing (不予共享依据).")
        elif len(self.share_conditions.strip()) > MAX_CONDITIONS:
            errors["share_conditions"] = _("At most %(count)d characters.") % {"count": MAX_CONDITIONS}
        if self.share_type != "none":
            _choice(errors, "share_method", self.share_method, SHARE_METHODS, _("Choose how the resource is shared."))
        _choice(errors, "secrecy", self.secrecy, SECRECY_LEVELS, _("Choose a classification level."))
        _choice(errors, "open_type", self.open_type, OPEN_TYPES, _("Choose whether the resource is open to the public."))
        if self.open_type in ("open", "conditional") and self.secrecy != "public":
            errors["open_type"] = _("Only a resource classified as public may be open to the public.")
        elif self.open_type == "conditional" and not self.open_conditions.strip():
            errors["open_conditions"] = _("Opening on conditions needs the conditions (开放条件).")
        elif len(self.open_conditions.strip()) > MAX_CONDITIONS:
            errors["open_conditions"] = _("At most %(count)d characters.") % {"count": MAX_CONDITIONS}

    def related_list(self) -> list[str]:
        return [code for code in re.split(r"[\s,，;；]+", self.related_codes.strip()) if code]

    def _related_errors(self, errors: dict[str, str], own_code: str) -> None:
        codes = self.related_list()
        if len(codes) > MAX_RELATED:
            errors["related_codes"] = _("At most %(count)d related resources.") % {"count": MAX_RELATED}
        elif bad := [c for c in codes if not coding.RESOURCE_CODE.match(c)]:
            errors["related_codes"] = _("Not a resource code (分类码/顺序码, e.g. 101001/000001): %(codes)s") % {"codes": " ".join(bad[:3])}
        elif own_code and own_code in codes:
            errors["related_codes"] = _("A resource is not related to itself.")

    def _item_errors(self, errors: dict[str, str]) -> None:
        if len(self.items) > MAX_ITEMS:
            errors["items"] = _("At most %(count)d data items.") % {"count": MAX_ITEMS}
            return
        if not self.items and self.format in ITEMS_REQUIRED:
            errors["items"] = _("Describe at least one data item (信息项) of a structured resource.")
        seen: set[str] = set()
        for row, item in enumerate(self.items):
            prefix = f"items.{row}."
            name = item.name.strip()
            if not name:
                errors[prefix + "name"] = _("Enter the data item's name.")
            elif len(name) > MAX_ITEM_NAME:
                errors[prefix + "name"] = _("At most %(count)d characters.") % {"count": MAX_ITEM_NAME}
            elif name in seen:
                errors[prefix + "name"] = _("Another data item has this name.")
            seen.add(name)
            _choice(errors, prefix + "data_type", item.data_type, DATA_TYPES, _("Choose a data type."))
            length = item.length.strip()
            if length and (not length.isdigit() or not 0 < int(length) <= MAX_ITEM_LENGTH):
                errors[prefix + "length"] = _("A length is a whole number from 1 to %(max)d.") % {"max": MAX_ITEM_LENGTH}
            if len(item.description.strip()) > MAX_ITEM_DESCRIPTION:
                errors[prefix + "description"] = _("At most %(count)d characters.") % {"count": MAX_ITEM_DESCRIPTION}

    def values(self) -> dict:
        """The columns to store (after ``errors`` found none)."""
        return {
            Resource.name: self.name.strip(), Resource.provider: self.provider.strip(),
            Resource.provider_code: self.provider_code.strip().upper(), Resource.abstract: self.abstract.strip(),
            Resource.classification: int(self.classification_id),
            Resource.basic_classification: _int(self.basic_classification_id),
            Resource.thematic_classification: _int(self.thematic_classification_id),
            Resource.format: self.format, Resource.format_detail: self.format_detail.strip(),
            Resource.share_type: self.share_type,
            Resource.share_conditions: self.share_conditions.strip(),
            Resource.share_method: self.share_method if self.share_type != "none" else "",
            Resource.open_type: self.open_type, Resource.open_conditions: self.open_conditions.strip() if self.open_type == "conditional" else "",
            Resource.update_cycle: self.update_cycle, Resource.published_on: _date(self.published_on),
            Resource.related_codes: " ".join(self.related_list()), Resource.secrecy: self.secrecy,
        }

    def item_rows(self, resource_id: int) -> list[DataItem]:
        return [DataItem(resource=resource_id, position=n, name=i.name.strip(), data_type=i.data_type,
                         length=int(i.length) if i.length.strip() else None, description=i.description.strip())
                for n, i in enumerate(self.items)]


def _required_text(errors: dict, name: str, value: str, limit: int, missing: str) -> None:
    if not value.strip():
        errors[name] = missing
    elif len(value.strip()) > limit:
        errors[name] = _("At most %(count)d characters.") % {"count": limit}


def _choice(errors: dict, name: str, value: str, allowed, message: str) -> None:
    if value not in allowed:
        errors[name] = message


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


async def _check_classifications(errors: dict, form: ResourceForm) -> None:
    wanted = {"classification_id": None, "basic_classification_id": "basic", "thematic_classification_id": "thematic"}
    ids = {name: _int(getattr(form, name)) for name in wanted}
    found = {row["id"]: row for row in await Classification.select(Classification.id, Classification.tree, Classification.level,
                                                                   Classification.retired)
             .where(Classification.id.is_in([i for i in ids.values() if i is not None] or [0]))}
    for name, tree in wanted.items():
        raw, node = getattr(form, name).strip(), found.get(ids[name])
        if not raw and name != "classification_id":
            continue
        if node is None:
            errors[name] = _("Choose the classification the resource code is made from.") if name == "classification_id" \
                else _("Choose a classification of this catalog tree.")
        elif tree and node["tree"] != tree:
            errors[name] = _("Choose a classification of this catalog tree.")
        elif node["level"] < 2:
            errors[name] = _("Classify at least down to the 项 (second level).")
        elif node["retired"]:
            errors[name] = _("This classification is retired; choose another.")


# Reading ---------------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def pending_filing(department_id: int) -> dict | None:
    return await Filing.select(Filing.id, Filing.version, Filing.submitted_at) \
        .where((Filing.department == department_id) & (Filing.status == "submitted")).first()


async def resources_of(department_id: int) -> list[dict]:
    """The department's working catalog, by code, with each resource's classification and its
    number of data items."""
    rows = await Resource.select(
        Resource.id, Resource.code, Resource.name, Resource.status, Resource.share_type, Resource.secrecy,
        Resource.format, Resource.update_cycle, Resource.updated_at,
        Resource.classification.name.as_alias("classification_name"),
    ).where(Resource.department == department_id).order_by(Resource.code)
    counts = {}
    if rows:
        for item in await DataItem.select(DataItem.resource).where(DataItem.resource.is_in([r["id"] for r in rows])):
            counts[item["resource"]] = counts.get(item["resource"], 0) + 1
    for row in rows:
        row["item_count"] = counts.get(row["id"], 0)
    return rows


async def load(resource_id: int) -> tuple[dict, list[dict]]:
    resource = await Resource.select().where(Resource.id == resource_id).first()
    if resource is None:
        raise NotFound(_("No such resource."))
    items = await DataItem.select().where(DataItem.resource == resource_id).order_by(DataItem.position, DataItem.id)
    return resource, items


async def load_for_editor(user: CurrentUser, resource_id: int) -> tuple[dict, list[dict], access.DepartmentInfo]:
    """The resource and its data items, if ``user`` edits its department's catalog (else 403)."""
    resource, items = await load(resource_id)
    department = await access.require_edit(user, resource["department"])
    return resource, items, department


async def default_provider(department: access.DepartmentInfo) -> tuple[str, str]:
    """The provider and code of the department's newest resource, else the department's name."""
    row = await Resource.select(Resource.provider, Resource.provider_code).where(Resource.department == department.id) \
        .order_by(Resource.id, ascending=False).first()
    return (row["provider"], row["provider_code"]) if row else (f"{department.unit_name}{department.name}", "")


# Writing ---------------------------------------------------------------------------------------


async def _refuse_while_under_review(department_id: int) -> None:
    if await pending_filing(department_id):
        raise Conflict(_("The catalog is under review by the big-data bureau; change it after the review (or withdraw the filing)."))


async def _classification_code(classification_id: int) -> str:
    row = await Classification.select(Classification.code).where(Classification.id == classification_id).first()
    return row["code"]


async def create(user: CurrentUser, department_id: int, form: ResourceForm, portal) -> int:
    """A new draft resource in the department's catalog, with a new code under its classification."""
    department = await access.require_edit(user, department_id)
    errors = await form.errors()
    if errors:
        raise Invalid(_("Correct the marked fields."), errors)
    async with write_transaction():
        await _refuse_while_under_review(department.id)
        code = await coding.next_code(await _classification_code(int(form.classification_id)))
        rows = await Resource.insert(Resource(department=department.id, code=code, status="draft", created_by=user.id,
                                              updated_by=user.id)).returning(Resource.id)
        resource_id = rows[0]["id"]
        await Resource.update(form.values()).where(Resource.id == resource_id)
        if form.items:
            await DataItem.insert(*form.item_rows(resource_id))
        await portal.audit("catalog.resource.create", actor=user, target_type="catalog_resource", target_id=resource_id,
                           summary=f"{code} {form.name.strip()}")
    return resource_id


def revision(resource: dict) -> str:
    """What the edit form carries back (``seen``), to tell whether someone saved meanwhile."""
    return resource["updated_at"].isoformat()


async def update(user: CurrentUser, resource_id: int, form: ResourceForm, portal, seen: str | None = None) -> str:
    """Store the edited resource (a draft again until the next approved version); a new
    classification gives it a new code. Returns its code. ``seen``: the revision the editor
    started from; if another save came after it, nothing is stored (409)."""
    resource, _items, department = await load_for_editor(user, resource_id)
    errors = await form.errors(own_code=resource["code"])
    if errors:
        raise Invalid(_("Correct the marked fields."), errors)
    async with write_transaction():
        await _refuse_while_under_review(department.id)
        current = await Resource.select(Resource.updated_at).where(Resource.id == resource_id).first()
        if current is None:
            raise NotFound(_("No such resource."))
        if seen is not None and seen != revision(current):
            raise Conflict(_("Someone saved this resource after you opened it. Your input is below: check it against the catalog and save again to keep it."))
        values = form.values()
        code = resource["code"]
        if values[Resource.classification] != resource["classification"]:
            code = await coding.next_code(await _classification_code(values[Resource.classification]))
        values.update({Resource.code: code, Resource.status: "draft", Resource.updated_by: user.id, Resource.updated_at: _now()})
        await Resource.update(values).where(Resource.id == resource_id)
        await DataItem.delete().where(DataItem.resource == resource_id)
        if form.items:
            await DataItem.insert(*form.item_rows(resource_id))
        await portal.audit("catalog.resource.edit", actor=user, target_type="catalog_resource", target_id=resource_id,
                           summary=f"{code} {form.name.strip()}")
    return code


async def in_approved_version(department_id: int, resource_id: int) -> bool:
    latest = await Filing.select(Filing.id).where((Filing.department == department_id) & (Filing.status == "approved")) \
        .order_by(Filing.version, ascending=False).first()
    return bool(latest) and await FilingItem.exists().where((FilingItem.filing == latest["id"]) & (FilingItem.resource_id == resource_id))


async def remove(user: CurrentUser, resource_id: int, portal) -> str:
    """Delete a resource never approved; mark an approved one ``withdrawn`` (it leaves the
    approved catalog with the next approved version). Returns what happened: deleted, withdrawn."""
    resource, _items, department = await load_for_editor(user, resource_id)
    async with write_transaction():
        await _refuse_while_under_review(department.id)
        if await in_approved_version(department.id, resource_id):
            await Resource.update({Resource.status: "withdrawn", Resource.updated_by: user.id, Resource.updated_at: _now()}) \
                .where(Resource.id == resource_id)
            outcome = "withdrawn"
        else:
            await Resource.delete().where(Resource.id == resource_id)
            outcome = "deleted"
        await portal.audit(f"catalog.resource.{'withdraw' if outcome == 'withdrawn' else 'delete'}", actor=user,
                           target_type="catalog_resource", target_id=resource_id, summary=f"{resource['code']} {resource['name']}")
    return outcome


async def restore(user: CurrentUser, resource_id: int, portal) -> None:
    """Keep a resource marked for removal after all."""
    resource, _items, department = await load_for_editor(user, resource_id)
    if resource["status"] != "withdrawn":
        raise Conflict(_("The resource is not marked for removal."))
    async with write_transaction():
        await _refuse_while_under_review(department.id)
        await Resource.update({Resource.status: "draft", Resource.updated_by: user.id, Resource.updated_at: _now()}) \
            .where(Resource.id == resource_id)
        await portal.audit("catalog.resource.restore", actor=user, target_type="catalog_resource", target_id=resource_id,
                           summary=f"{resource['code']} {resource['name']}")
