"""A department's catalog to and from the spreadsheet bureaus exchange (CAT-6).

Export writes the working catalog (resources marked for removal left out) in the layout of
``sheet_format``; its editors and the reviewers of its unit may take it.

Import reads a workbook into the working catalog, all or nothing:

- every row is checked with the editor's own checks (``ResourceForm.errors``) and every fault
  is reported at once by sheet, row and column; one fault anywhere and nothing is written;
- a row whose 信息资源代码 is a resource of this department updates it (unchanged rows are left
  alone, so their approved status stays); any other row — no code, or the code of a resource
  elsewhere, as in another department's export — becomes a new draft resource with a new code
  under its classification. 关联资源代码 naming another row of the workbook follow that row to
  its new code, so a copy keeps its relations among itself;
- resources not in the workbook are left as they are (an import never deletes);
- while a filing is under review the catalog is locked, as in the editor.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date

from plugins.catalog import access, coding, resources, total
from plugins.catalog.errors import Conflict, Forbidden
from plugins.catalog.resources import ItemForm, ResourceForm
from plugins.catalog.sheet_format import (ITEM_COLUMNS, ITEMS_SHEET, LABELS, RESOURCE_COLUMNS, classification_code,
                                          code_of, label, split_item_names)
from plugins.catalog.tables import CatalogEntry, Classification, DataItem, Resource
from plugins.catalog.workbook import FileRefused, RowError, SheetData, SheetRow, read_workbook, write_workbook
from portal.api import CurrentUser
from portal.db import write_transaction
from portal.i18n import gettext as _

RESOURCE_HEADERS = {column.field: column.header for column in RESOURCE_COLUMNS}
ITEM_HEADERS = {column.field: column.header for column in ITEM_COLUMNS}
CLASSIFICATION_FIELDS = ("classification_id", "basic_classification_id", "thematic_classification_id")
TREE_NAMES = {"basic": "基础信息资源目录", "thematic": "主题信息资源目录", "departmental": "部门信息资源目录"}
# A blank optional choice means what a new resource in the editor starts with.
BLANK_MEANS = {"open_type": "closed", "secrecy": "internal", "share_method": "", "format": "", "update_cycle": "",
               "share_type": ""}


class ImportRefused(Exception):
    """Nothing was imported: ``message`` says why, ``errors`` lists the faults by row."""

    def __init__(self, message: str, errors: list[RowError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


@dataclass
class PlannedRow:
    """One resource of the workbook, ready to be written."""

    source: SheetRow
    code: str
    form: ResourceForm
    existing: dict | None = None
    # The 信息项 sheet's row of each data item; empty when the items came from 信息项名称.
    item_rows: list[int] = field(default_factory=list)


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    checked_only: bool = False

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


# Export ----------------------------------------------------------------------------------------


def _classification_cell(node: dict | None) -> str:
    return f"{node['code']} {node['name']}" if node else ""


async def _classifications() -> dict[int, dict]:
    rows = await Classification.select(Classification.id, Classification.code, Classification.name, Classification.tree,
                                       Classification.level, Classification.retired).order_by(Classification.code)
    return {row["id"]: row for row in rows}


def notes() -> list[tuple[str, str]]:
    """The notes sheet: what each column holds (translated; the headers stay the format's)."""
    choices = lambda vocabulary: "、".join(LABELS[vocabulary].values())  # noqa: E731
    return [
        (_("Column"), _("What to write")),
        ("信息资源分类", _("The classification code the resource code is made from, at least the 项 (second level); the sheet 分类代码 lists them. The name after the code may be left.")),
        ("信息资源代码", _("Leave empty for a new resource: the code is given on import. A code of a resource of this department updates that resource.")),
        ("提供方代码", _("The provider's unified social credit code (18 characters).")),
        ("信息资源格式", choices("format")),
        ("信息项名称", _("The data items' names separated by 、; the sheet 信息项 describes each (type, length), naming its resource by code or, for a new resource, by name.")),
        ("共享类型", choices("share_type") + " — " + _("conditional sharing needs its conditions, no sharing the law that forbids it (共享条件).")),
        ("共享方式", choices("share_method")),
        ("是否向社会开放", choices("open_type") + " — " + _("only a resource classified 公开 may be open.")),
        ("更新周期", choices("update_cycle")),
        ("发布日期", _("A date, or text as YYYY-MM-DD.")),
        ("关联资源代码", _("Resource codes separated by spaces.")),
        ("密级", choices("secrecy") + " — " + _("empty means 内部.")),
        ("数据类型", choices("data_type")),
    ]


def classification_rows(nodes: dict[int, dict]) -> list[tuple[str, str, str]]:
    return [(n["code"], n["name"], TREE_NAMES.get(n["tree"], n["tree"])) for n in nodes.values() if n["level"] >= 2 and not n["retired"]]


async def export_workbook(user: CurrentUser, department_id: int) -> tuple[access.DepartmentInfo, bytes]:
    """The department's working catalog as a workbook, for its editors and its reviewers."""
    department = await access.department_info(department_id)
    if department is None or not await access.can_see_working_catalog(user, department):
        raise Forbidden(_("This catalog is not yours to see."))
    rows = await Resource.select().where((Resource.department == department.id) & (Resource.status != "withdrawn")) \
        .order_by(Resource.code)
    items: dict[int, list[dict]] = {}
    if rows:
        for item in await DataItem.select().where(DataItem.resource.is_in([r["id"] for r in rows])) \
                .order_by(DataItem.position, DataItem.id):
            items.setdefault(item["resource"], []).append(item)
    nodes = await _classifications()
    sheet_rows, item_rows = [], []
    for row in rows:
        own = items.get(row["id"], [])
        sheet_rows.append(_resource_cells(row, own, nodes))
        item_rows.extend({"resource_code": row["code"], "resource_name": row["name"], "name": item["name"],
                          "data_type": label("data_type", item["data_type"]), "length": item["length"] if item["length"] else "",
                          "description": item["description"]} for item in own)
    data = await asyncio.to_thread(write_workbook, sheet_rows, item_rows, classification_rows(nodes), notes())
    return department, data


def _resource_cells(row: dict, items: list[dict], nodes: dict[int, dict]) -> dict:
    cells = {name: row[name] for name in ("name", "code", "provider", "provider_code", "abstract", "format_detail",
                                          "share_conditions", "open_conditions", "related_codes")}
    for name in CLASSIFICATION_FIELDS:
        cells[name] = _classification_cell(nodes.get(row[name.removesuffix("_id")]))
    for vocabulary in ("format", "share_type", "share_method", "open_type", "update_cycle", "secrecy"):
        cells[vocabulary] = label(vocabulary, row[vocabulary]) if row[vocabulary] else ""
    cells["published_on"] = row["published_on"] if isinstance(row["published_on"], date) else ""
    cells["item_names"] = "、".join(item["name"] for item in items)
    return cells


async def total_workbook(viewer: CurrentUser, unit_id: int) -> bytes:
    """A unit's total catalog (总目录) as ``viewer`` may read it — approved resources of the unit and
    the units below, never a secret one (``total.all_visible``) — in the same layout. What the
    approved entries do not keep (conditions, format detail, related codes, the items' types)
    stays empty; the items' names are in 信息项名称."""
    rows = [row async for row in total.all_visible(viewer, unit_id)]
    items_text: dict[int, str] = {}
    for start in range(0, len(rows), 500):
        ids = [row["id"] for row in rows[start:start + 500]]
        for entry in await CatalogEntry.select(CatalogEntry.id, CatalogEntry.items_text).where(CatalogEntry.id.is_in(ids)):
            items_text[entry["id"]] = entry["items_text"]
    nodes = await _classifications()
    by_code = {node["code"]: node for node in nodes.values()}
    sheet_rows = []
    for row in rows:
        cells = {name: row[name] for name in ("name", "code", "provider", "provider_code", "abstract")}
        for name, code in (("classification_id", row["classification_code"]), ("basic_classification_id", row["basic_code"]),
                           ("thematic_classification_id", row["thematic_code"])):
            cells[name] = _classification_cell(by_code.get(code)) if code else ""
        for vocabulary in ("format", "share_type", "share_method", "open_type", "update_cycle", "secrecy"):
            cells[vocabulary] = label(vocabulary, row[vocabulary]) if row[vocabulary] else ""
        cells["published_on"] = row["published_on"] if isinstance(row["published_on"], date) else ""
        cells["item_names"] = "、".join(line for line in items_text.get(row["id"], "").splitlines() if line)
        sheet_rows.append(cells)
    return await asyncio.to_thread(write_workbook, sheet_rows, [], classification_rows(nodes), notes())


async def template_workbook() -> bytes:
    """An empty workbook of the layout, with the classification codes and the notes."""
    nodes = await _classifications()
    return await asyncio.to_thread(write_workbook, [], [], classification_rows(nodes), notes())


# Import: reading the rows into forms ------------------------------------------------------------


def _choices_message(vocabulary: str) -> str:
    return _("Write one of: %(values)s.") % {"values": "、".join(LABELS[vocabulary].values())}


class _Planner:
    """Turns the workbook's rows into resource forms, collecting every fault on the way."""

    def __init__(self, sheets: SheetData, nodes: dict[int, dict], existing: dict[str, dict]):
        self.sheets = sheets
        self.by_code = {node["code"]: node["id"] for node in nodes.values()}
        self.existing = existing
        self.errors: list[RowError] = list(sheets.errors)
        self.planned: list[PlannedRow] = []
        # (row, field) faults found while reading, which the form's own checks must not repeat
        # (rows of the items sheet negative)
        self.reported: set[tuple[int, str]] = set()

    def fault(self, row: int, name: str, message: str) -> None:
        self.errors.append(RowError(self.sheets.resources_sheet, row, RESOURCE_HEADERS.get(name, name), message))
        self.reported.add((row, name))

    def choice(self, row: SheetRow, name: str, vocabulary: str) -> str:
        text = row.cells.get(name, "")
        if not text:
            return BLANK_MEANS.get(name, "")
        code = code_of(vocabulary, text)
        if code is None:
            self.fault(row.row, name, _choices_message(vocabulary))
            return text
        return code

    def classification(self, row: SheetRow, name: str) -> str:
        text = row.cells.get(name, "")
        if not text:
            return ""
        code = classification_code(text)
        if code not in self.by_code:
            self.fault(row.row, name, _("No classification has the code %(code)s (the sheet 分类代码 lists them).")
                       % {"code": code or text[:20]})
            return ""
        return str(self.by_code[code])

    def form_of(self, row: SheetRow) -> ResourceForm:
        text = {name: row.cells.get(name, "") for name in ("name", "provider", "provider_code", "abstract", "format_detail",
                                                            "share_conditions", "open_conditions", "published_on",
                                                            "related_codes")}
        return ResourceForm(
            **text,
            classification_id=self.classification(row, "classification_id"),
            basic_classification_id=self.classification(row, "basic_classification_id"),
            thematic_classification_id=self.classification(row, "thematic_classification_id"),
            format=self.choice(row, "format", "format"), share_type=self.choice(row, "share_type", "share_type"),
            share_method=self.choice(row, "share_method", "share_method"), open_type=self.choice(row, "open_type", "open_type"),
            update_cycle=self.choice(row, "update_cycle", "update_cycle"), secrecy=self.choice(row, "secrecy", "secrecy"),
        )

    def read_resources(self) -> None:
        seen_codes: dict[str, int] = {}
        for row in self.sheets.resources:
            code = row.cells.get("code", "").strip()
            plan = PlannedRow(row, code, self.form_of(row))
            if code:
                if not coding.RESOURCE_CODE.match(code):
                    self.fault(row.row, "code", _("Not a resource code (分类码/顺序码, e.g. 101001/000001); leave it empty for a new resource."))
                elif code in seen_codes:
                    self.fault(row.row, "code", _("Row %(row)d has the same code.") % {"row": seen_codes[code]})
                else:
                    seen_codes[code] = row.row
                    plan.existing = self.existing.get(code)
                    if plan.existing and plan.existing["status"] == "withdrawn":
                        self.fault(row.row, "code", _("This resource is marked for removal; keep it on its page first, then import."))
            self.planned.append(plan)

    def read_items(self) -> None:
        by_code = {plan.code: plan for plan in self.planned if plan.code}
        by_name: dict[str, list[PlannedRow]] = {}
        for plan in self.planned:
            by_name.setdefault(plan.form.name.strip(), []).append(plan)
        from_sheet: dict[int, list[tuple[int, ItemForm]]] = {}
        for row in self.sheets.items:
            code, name = row.cells.get("resource_code", "").strip(), row.cells.get("resource_name", "").strip()
            owners = [by_code[code]] if code in by_code else [] if code else by_name.get(name, [])
            if len(owners) != 1:
                column = ITEM_HEADERS["resource_code" if code or not name else "resource_name"]
                message = _("Two resources on the sheet 信息资源 have this name; name the resource by its code.") if len(owners) > 1 \
                    else _("No resource on the sheet 信息资源 has this code or name.")
                self.errors.append(RowError(ITEMS_SHEET, row.row, column, message))
                continue
            data_type = "string"
            if row.cells.get("data_type"):
                data_type = code_of("data_type", row.cells["data_type"]) or row.cells["data_type"]
                if data_type not in LABELS["data_type"]:
                    self.errors.append(RowError(ITEMS_SHEET, row.row, ITEM_HEADERS["data_type"], _choices_message("data_type")))
                    self.reported.add((-row.row, "data_type"))
            item = ItemForm(row.cells.get("name", ""), data_type, row.cells.get("length", ""), row.cells.get("description", ""))
            from_sheet.setdefault(id(owners[0]), []).append((row.row, item))
        for plan in self.planned:
            names = split_item_names(plan.source.cells.get("item_names", ""))
            listed = from_sheet.get(id(plan), [])
            if listed:
                plan.item_rows = [number for number, _item in listed]
                plan.form.items = [item for _number, item in listed]
                if names and names != [item.name.strip() for item in plan.form.items]:
                    self.fault(plan.source.row, "item_names", _("The names differ from the data items on the sheet 信息项: correct one of them or empty this cell."))
            else:
                plan.form.items = [ItemForm(name) for name in names]

    async def check_forms(self) -> None:
        for plan in self.planned:
            own_code = plan.existing["code"] if plan.existing else ""
            for name, message in (await plan.form.errors(own_code=own_code)).items():
                if name.startswith("items."):
                    _items, index, part = name.split(".")
                    item = plan.form.items[int(index)]
                    if plan.item_rows:
                        item_row = plan.item_rows[int(index)]
                        if (-item_row, part) not in self.reported:
                            self.errors.append(RowError(ITEMS_SHEET, item_row, ITEM_HEADERS.get(part, part), message))
                    else:
                        self.errors.append(RowError(self.sheets.resources_sheet, plan.source.row, RESOURCE_HEADERS["item_names"],
                                                    f"{item.name.strip() or '?'}: {message}"))
                elif (plan.source.row, name) not in self.reported:
                    self.fault(plan.source.row, "item_names" if name == "items" else name, message)


async def plan_import(department: access.DepartmentInfo, sheets: SheetData) -> tuple[list[PlannedRow], list[RowError]]:
    """The workbook's resources as forms, and every fault of every row (sorted by sheet and row)."""
    nodes = await _classifications()
    existing = {row["code"]: row for row in await Resource.select().where(Resource.department == department.id)}
    planner = _Planner(sheets, nodes, existing)
    if planner.errors:
        return [], planner.errors
    if not sheets.resources:
        return [], [RowError(sheets.resources_sheet, None, "", _("The sheet has no resources below its header row."))]
    planner.read_resources()
    planner.read_items()
    await planner.check_forms()
    order = {sheets.resources_sheet: 0, ITEMS_SHEET: 1}
    errors = sorted(planner.errors, key=lambda e: (order.get(e.sheet, 2), e.row or 0, e.column))
    return planner.planned, errors


# Import: writing -------------------------------------------------------------------------------


def _item_tuples(items) -> list[tuple]:
    return [(i.name.strip(), i.data_type, i.length.strip(), i.description.strip()) for i in items]


async def _unchanged(plan: PlannedRow) -> bool:
    resource, items = await resources.load(plan.existing["id"])
    before = ResourceForm.from_resource(resource, items)
    return before.values() == plan.form.values() and _item_tuples(before.items) == _item_tuples(plan.form.items)


async def import_workbook(user: CurrentUser, department_id: int, data: bytes, portal, *, check_only: bool = False) -> ImportResult:
    """Import the workbook ``data`` into the department's working catalog (all or nothing)."""
    department = await access.require_edit(user, department_id)
    if await resources.pending_filing(department.id):
        raise ImportRefused(_("The catalog is under review by the big-data bureau; import after the review (or withdraw the filing)."))
    try:
        sheets = await asyncio.to_thread(read_workbook, data)
    except FileRefused as refused:
        raise ImportRefused(str(refused)) from None
    planned, errors = await plan_import(department, sheets)
    if errors:
        raise ImportRefused(_("Nothing was imported: correct the rows below and upload the workbook again."), errors)
    result = ImportResult(checked_only=check_only)
    if check_only:
        for plan in planned:
            target = result.unchanged if plan.existing and await _unchanged(plan) else result.updated if plan.existing else result.created
            target.append(plan.code or plan.form.name.strip())
        return result
    try:
        async with write_transaction():
            await _write(user, department, planned, portal, result)
    except Conflict as conflict:
        raise ImportRefused(conflict.message) from None
    return result


async def _write(user: CurrentUser, department: access.DepartmentInfo, planned: list[PlannedRow], portal,
                 result: ImportResult) -> None:
    if await resources.pending_filing(department.id):
        raise Conflict(_("The catalog is under review by the big-data bureau; import after the review (or withdraw the filing)."))
    new_code: dict[str, str] = {}
    ids: dict[int, int] = {}
    for plan in planned:
        if not plan.existing:
            continue
        ids[plan.source.row] = plan.existing["id"]
        if await _unchanged(plan):
            result.unchanged.append(plan.existing["code"])
            continue
        code = await resources.update(user, plan.existing["id"], plan.form, portal)
        result.updated.append(code)
        if plan.code != code:
            new_code[plan.code] = code
    created = [plan for plan in planned if not plan.existing]
    for plan, (resource_id, code) in zip(created, await _create_all(user, department, created, portal)):
        ids[plan.source.row] = resource_id
        result.created.append(code)
        if plan.code:
            new_code[plan.code] = code
    if new_code:
        await _follow_new_codes(planned, ids, new_code)
    await portal.audit("catalog.import", actor=user, target_type="catalog_department", target_id=department.id,
                       summary=f"{department.name}: +{len(result.created)} ~{len(result.updated)} ={len(result.unchanged)}")


CHUNK = 200


async def _create_all(user: CurrentUser, department: access.DepartmentInfo, created: list[PlannedRow], portal) -> list[tuple[int, str]]:
    """New draft resources as the editor creates them (code under the classification, the form's
    own values and data items, an audit entry each), written a chunk of rows per statement: a
    thousand resources one by one held the write lock for most of a minute."""
    nodes = await _classifications()
    codes = [await coding.next_code(nodes[int(plan.form.classification_id)]["code"]) for plan in created]
    ids: dict[str, int] = {}
    for start in range(0, len(created), CHUNK):
        rows = [Resource(department=department.id, code=code, status="draft", created_by=user.id, updated_by=user.id,
                         **{column._meta.name: value for column, value in plan.form.values().items()})
                for plan, code in zip(created[start:start + CHUNK], codes[start:start + CHUNK])]
        for row in await Resource.insert(*rows).returning(Resource.id, Resource.code):
            ids[row["code"]] = row["id"]
    items = [item for plan, code in zip(created, codes) for item in plan.form.item_rows(ids[code])]
    for start in range(0, len(items), CHUNK * 5):
        await DataItem.insert(*items[start:start + CHUNK * 5])
    for plan, code in zip(created, codes):
        await portal.audit("catalog.resource.create", actor=user, target_type="catalog_resource", target_id=ids[code],
                           summary=f"{code} {plan.form.name.strip()}")
    return [(ids[code], code) for code in codes]


async def _follow_new_codes(planned: list[PlannedRow], ids: dict[int, int], new_code: dict[str, str]) -> None:
    """Relations among the workbook's rows point at the codes those rows were given."""
    for plan in planned:
        related = plan.form.related_list()
        if any(code in new_code for code in related):
            await Resource.update({Resource.related_codes: " ".join(new_code.get(code, code) for code in related)}) \
                .where(Resource.id == ids[plan.source.row])
