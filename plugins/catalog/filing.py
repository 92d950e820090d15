"""Filing (备案) of a department's catalog with the big-data bureau of its level (CAT-2).

The department submits its working catalog: every resource is copied, with its data items, into
a new version (``Filing`` and its ``FilingItem`` snapshots) and the catalog is locked. An officer
holding the reviewer role in the department's unit looks at each resource (agreed, or to be
corrected with an opinion) and then approves the version or returns it. Approval replaces the
department's approved entries (``CatalogEntry``: the total catalogs read them) with the version's
resources, secret ones left out; resources marked for removal go. Every version and every review
stays, and any two versions of a department can be compared.

Decisions are taken by an UPDATE that matches only a filing still under review, so of two
officers deciding at once one wins and the other is told it was decided meanwhile.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from plugins.catalog import access
from plugins.catalog.errors import Conflict, Forbidden, Invalid, NotFound
from plugins.catalog.tables import CatalogEntry, CatalogFacet, Classification, DataItem, Filing, FilingItem, Resource
from plugins.catalog.vocabulary import SECRET_LEVELS
from portal.accounts.tables import RoleAssignment
from portal.api import CurrentUser
from portal.db import write_transaction
from portal.i18n import gettext as _

MAX_NOTE = 2000
MAX_OPINION = 2000
# The fields of a resource as filed, in the order a comparison lists them.
SNAPSHOT_FIELDS = ("code", "name", "classification", "basic_classification", "thematic_classification", "provider",
                   "provider_code", "abstract", "format", "format_detail", "share_type", "share_conditions", "share_method",
                   "open_type", "open_conditions", "update_cycle", "published_on", "related_codes", "secrecy")
ITEM_FIELDS = ("name", "data_type", "length", "description")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _loaded(snapshot) -> dict:
    return json.loads(snapshot) if isinstance(snapshot, str) else snapshot


# Snapshots -------------------------------------------------------------------------------------


async def _classification_labels() -> dict[int, str]:
    rows = await Classification.select(Classification.id, Classification.code, Classification.name)
    return {r["id"]: f"{r['code']} {r['name']}" for r in rows}


def snapshot(resource: dict, items: list[dict], classifications: dict[int, str]) -> dict:
    """A resource as it is filed: its description (classifications as ``code name``, dates as
    ISO text) and its data items; ``status`` says whether it is to be removed."""
    data = {name: resource[name] for name in SNAPSHOT_FIELDS}
    for name in ("classification", "basic_classification", "thematic_classification"):
        data[name] = classifications.get(resource[name], "") if resource[name] else ""
    data["published_on"] = resource["published_on"].isoformat() if resource["published_on"] else ""
    data["items"] = [{name: item[name] for name in ITEM_FIELDS} for item in items]
    data["withdrawn"] = resource["status"] == "withdrawn"
    return data


async def working_snapshots(department_id: int) -> dict[int, dict]:
    """The department's working catalog as it would be filed now, by resource id."""
    resources = await Resource.select().where(Resource.department == department_id).order_by(Resource.code)
    items: dict[int, list[dict]] = {}
    if resources:
        for item in await DataItem.select().where(DataItem.resource.is_in([r["id"] for r in resources])) \
                .order_by(DataItem.position, DataItem.id):
            items.setdefault(item["resource"], []).append(item)
    labels = await _classification_labels()
    return {r["id"]: snapshot(r, items.get(r["id"], []), labels) for r in resources}


async def previous_approved(filing: dict) -> dict | None:
    """The department's approved version before ``filing``, the one it is reviewed against."""
    return await Filing.select().where((Filing.department == filing["department"]) & (Filing.status == "approved")
                                       & (Filing.version < filing["version"])).order_by(Filing.version, ascending=False).first()


async def latest_approved(department_id: int) -> dict | None:
    return await Filing.select().where((Filing.department == department_id) & (Filing.status == "approved")) \
        .order_by(Filing.version, ascending=False).first()


async def version_snapshots(filing_id: int | None) -> dict[int, dict]:
    """The resources of a version by resource id (those filed for removal left out)."""
    if filing_id is None:
        return {}
    rows = await FilingItem.select(FilingItem.resource_id, FilingItem.snapshot).where(FilingItem.filing == filing_id)
    found = {r["resource_id"]: _loaded(r["snapshot"]) for r in rows}
    return {rid: data for rid, data in found.items() if not data.get("withdrawn")}


# Comparing -------------------------------------------------------------------------------------


@dataclass
class Change:
    resource_id: int
    code: str
    name: str
    # [(field, before, after)]; data items as ``items.<name>`` with a row's text before and after
    fields: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Comparison:
    added: list[dict]
    removed: list[dict]
    changed: list[Change]
    unchanged: int

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _item_text(item: dict) -> str:
    length = f"({item['length']})" if item.get("length") else ""
    description = f" — {item['description']}" if item.get("description") else ""
    return f"{item['data_type']}{length}{description}"


def _field_changes(before: dict, after: dict) -> list[tuple[str, str, str]]:
    changes = [(name, str(before.get(name, "")), str(after.get(name, ""))) for name in SNAPSHOT_FIELDS
               if before.get(name, "") != after.get(name, "")]
    old_items = {i["name"]: i for i in before.get("items", [])}
    new_items = {i["name"]: i for i in after.get("items", [])}
    for name in [*old_items, *(n for n in new_items if n not in old_items)]:
        old, new = old_items.get(name), new_items.get(name)
        if old != new:
            changes.append((f"items.{name}", _item_text(old) if old else "", _item_text(new) if new else ""))
    if [i["name"] for i in before.get("items", [])] != [i["name"] for i in after.get("items", [])] and \
            set(old_items) == set(new_items):
        changes.append(("items.order", " / ".join(old_items), " / ".join(new_items)))
    return changes


def compare_snapshots(before: dict[int, dict], after: dict[int, dict]) -> Comparison:
    """What changed from one set of resources (by resource id) to another."""
    added = [after[rid] | {"resource_id": rid} for rid in after if rid not in before]
    removed = [before[rid] | {"resource_id": rid} for rid in before if rid not in after]
    changed, unchanged = [], 0
    for rid in after:
        if rid in before:
            fields = _field_changes(before[rid], after[rid])
            if fields:
                changed.append(Change(rid, after[rid]["code"], after[rid]["name"], fields))
            else:
                unchanged += 1
    by_code = lambda data: data["code"]  # noqa: E731
    return Comparison(sorted(added, key=by_code), sorted(removed, key=by_code), sorted(changed, key=lambda c: c.code), unchanged)


async def changes_since_approved(department_id: int) -> Comparison:
    """The working catalog against the department's approved version (all new before any)."""
    latest = await latest_approved(department_id)
    working = {rid: data for rid, data in (await working_snapshots(department_id)).items() if not data["withdrawn"]}
    return compare_snapshots(await version_snapshots(latest["id"] if latest else None), working)


async def compare_versions(user: CurrentUser, filing_a: int, filing_b: int) -> tuple[dict, dict, Comparison]:
    """Two versions of one department's catalog, older first, and what changed between them."""
    a, department = await load_for(user, filing_a)
    b, _department = await load_for(user, filing_b)
    if a["department"] != b["department"]:
        raise Invalid(_("Only versions of the same department's catalog can be compared."))
    if a["version"] > b["version"]:
        a, b = b, a
    return a, b, compare_snapshots(await version_snapshots(a["id"]), await version_snapshots(b["id"]))


# Reading ---------------------------------------------------------------------------------------


async def load(filing_id: int) -> dict:
    filing = await Filing.select().where(Filing.id == filing_id).first()
    if filing is None:
        raise NotFound(_("No such filing."))
    return filing


async def load_for(user: CurrentUser, filing_id: int) -> tuple[dict, access.DepartmentInfo]:
    """A filing the user may see: the department's editors and the reviewers of its unit."""
    filing = await load(filing_id)
    department = await access.department_info(filing["department"])
    if department is None or not await access.can_see_working_catalog(user, department):
        raise Forbidden(_("This filing is not yours to see."))
    return filing, department


async def items_of(filing_id: int) -> list[dict]:
    rows = await FilingItem.select().where(FilingItem.filing == filing_id).order_by(FilingItem.code)
    for row in rows:
        row["snapshot"] = _loaded(row["snapshot"])
    return rows


async def versions_of(department_id: int) -> list[dict]:
    """Every filing of the department, newest first, with the names of submitter and reviewer."""
    rows = await Filing.select().where(Filing.department == department_id).order_by(Filing.version, ascending=False)
    names = await access.names_of([r["submitted_by"] for r in rows] + [r["reviewer"] for r in rows])
    for row in rows:
        row["submitted_by_name"] = names.get(row["submitted_by"], "")
        row["reviewer_name"] = names.get(row["reviewer"], "")
    return rows


async def awaiting_review(user: CurrentUser) -> list[dict]:
    """The filings under review in the units ``user`` reviews, oldest first."""
    units = await access.reviewed_units(user)
    if user.is_admin:
        condition = Filing.status == "submitted"
    elif units:
        condition = (Filing.status == "submitted") & Filing.unit.is_in(units)
    else:
        return []
    rows = await Filing.select(Filing.all_columns(), Filing.department.name.as_alias("department_name")) \
        .where(condition).order_by(Filing.submitted_at)
    names = await access.names_of([r["submitted_by"] for r in rows])
    for row in rows:
        row["submitted_by_name"] = names.get(row["submitted_by"], "")
    return rows


# Submitting ------------------------------------------------------------------------------------


async def submit(user: CurrentUser, department_id: int, note: str, portal) -> int:
    """File the department's working catalog as its next version; returns the filing's id."""
    department = await access.require_edit(user, department_id)
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise Invalid(_("At most %(count)d characters.") % {"count": MAX_NOTE}, {"note": _("At most %(count)d characters.") % {"count": MAX_NOTE}})
    async with write_transaction():
        if await Filing.exists().where((Filing.department == department.id) & (Filing.status == "submitted")):
            raise Conflict(_("The catalog is already under review."))
        snapshots = await working_snapshots(department.id)
        latest = await latest_approved(department.id)
        kept = {rid: data for rid, data in snapshots.items() if not data["withdrawn"]}
        if not kept and latest is None:
            raise Invalid(_("The catalog has no resources to file yet."))
        if compare_snapshots(await version_snapshots(latest["id"] if latest else None), kept).empty:
            raise Invalid(_("Nothing changed since the approved version %(version)d.") % {"version": latest["version"]})
        last = await Filing.select(Filing.version).where(Filing.department == department.id) \
            .order_by(Filing.version, ascending=False).first()
        version = (last["version"] if last else 0) + 1
        rows = await Filing.insert(Filing(department=department.id, unit=department.unit_id, version=version, status="submitted",
                                          note=note, resource_count=len(kept), submitted_by=user.id)).returning(Filing.id)
        filing_id = rows[0]["id"]
        if snapshots:
            await FilingItem.insert(*[FilingItem(filing=filing_id, resource_id=rid, code=data["code"], name=data["name"],
                                                 snapshot=json.dumps(data, ensure_ascii=False))
                                      for rid, data in snapshots.items()])
        await Resource.update({Resource.status: "submitted"}).where(
            (Resource.department == department.id) & (Resource.status != "withdrawn"))
        await portal.audit("catalog.filing.submit", actor=user, target_type="catalog_filing", target_id=filing_id,
                           summary=f"{department.name} v{version}")
    for reviewer in await _reviewers(department.unit_id):
        portal.notify(reviewer, "catalog_filing", filing=filing_id, department=department.name, version=version)
    return filing_id


async def _reviewers(unit_id: int) -> list[int]:
    ra = RoleAssignment
    rows = await ra.select(ra.user).where(
        (ra.role == access.REVIEWER_ROLE) & (ra.user.active == True)  # noqa: E712
        & ((ra.unit == unit_id) | (ra.unit.is_null() & (ra.user.unit == unit_id))))
    return sorted({r["user"] for r in rows})


async def _settle_statuses(department_id: int) -> None:
    """After a version left review without approval: each resource is ``approved`` when it is
    as in the approved version, else ``draft``; one marked for removal stays so."""
    latest = await latest_approved(department_id)
    approved = await version_snapshots(latest["id"] if latest else None)
    for rid, data in (await working_snapshots(department_id)).items():
        if data["withdrawn"]:
            continue
        same = rid in approved and not _field_changes(approved[rid], data)
        await Resource.update({Resource.status: "approved" if same else "draft"}).where(Resource.id == rid)


async def withdraw(user: CurrentUser, filing_id: int, portal) -> None:
    """The department takes its filing back before the review ended."""
    filing = await load(filing_id)
    department = await access.require_edit(user, filing["department"])
    async with write_transaction():
        rows = await Filing.update({Filing.status: "withdrawn", Filing.reviewed_at: _now()}) \
            .where((Filing.id == filing_id) & (Filing.status == "submitted")).returning(Filing.id)
        if not rows:
            raise Conflict(_("The filing is no longer under review."))
        await _settle_statuses(department.id)
        await portal.audit("catalog.filing.withdraw", actor=user, target_type="catalog_filing", target_id=filing_id,
                           summary=f"{department.name} v{filing['version']}")


# Reviewing -------------------------------------------------------------------------------------


async def _reviewable(user: CurrentUser, filing_id: int) -> tuple[dict, access.DepartmentInfo]:
    filing = await load(filing_id)
    department = await access.department_info(filing["department"])
    if department is None or not await access.can_review(user, filing["unit"]):
        raise Forbidden(_("Only the big-data bureau of the department's level reviews its catalog."))
    if filing["status"] != "submitted":
        raise Conflict(_("The filing is no longer under review."))
    if filing["submitted_by"] == user.id:
        raise Forbidden(_("Someone else reviews the catalog you filed."))
    return filing, department


def _clean_opinion(opinion: str, field_name: str = "opinion") -> str:
    opinion = opinion.strip()
    if len(opinion) > MAX_OPINION:
        message = _("At most %(count)d characters.") % {"count": MAX_OPINION}
        raise Invalid(message, {field_name: message})
    return opinion


async def review_item(user: CurrentUser, filing_id: int, item_id: int, verdict: str, opinion: str) -> None:
    """The officer's verdict on one resource of the version: ``approved`` (agreed) or
    ``returned`` (to be corrected, with an opinion saying what)."""
    await _reviewable(user, filing_id)
    opinion = _clean_opinion(opinion)
    if verdict not in ("approved", "returned"):
        raise Invalid(_("Choose agreed or to be corrected."), {"verdict": _("Choose agreed or to be corrected.")})
    if verdict == "returned" and not opinion:
        message = _("Say what is to be corrected.")
        raise Invalid(message, {"opinion": message})
    async with write_transaction():
        rows = await FilingItem.update({FilingItem.verdict: verdict, FilingItem.opinion: opinion}) \
            .where((FilingItem.id == item_id) & (FilingItem.filing == filing_id)).returning(FilingItem.id)
        if not rows:
            raise NotFound(_("No such resource in this filing."))
        if not await Filing.exists().where((Filing.id == filing_id) & (Filing.status == "submitted")):
            raise Conflict(_("The filing is no longer under review."))


async def decide(user: CurrentUser, filing_id: int, decision: str, opinion: str, portal) -> None:
    """Approve the version (every resource not marked to be corrected counts as agreed) or return
    it with opinions (an overall one, or at least one resource marked to be corrected)."""
    filing, department = await _reviewable(user, filing_id)
    opinion = _clean_opinion(opinion)
    if decision not in ("approve", "return"):
        raise Invalid(_("Approve or return the filing."))
    async with write_transaction():
        returned = await FilingItem.count().where((FilingItem.filing == filing_id) & (FilingItem.verdict == "returned"))
        if decision == "approve" and returned:
            raise Invalid(_("%(count)d resources are marked to be corrected: return the filing, or agree to them first.") % {"count": returned})
        if decision == "return" and not opinion and not returned:
            message = _("Say why the catalog is returned, here or at the resources to be corrected.")
            raise Invalid(message, {"opinion": message})
        status = "approved" if decision == "approve" else "returned"
        rows = await Filing.update({Filing.status: status, Filing.reviewer: user.id, Filing.reviewed_at: _now(), Filing.opinion: opinion}) \
            .where((Filing.id == filing_id) & (Filing.status == "submitted")).returning(Filing.id)
        if not rows:
            raise Conflict(_("The filing was decided meanwhile."))
        if decision == "approve":
            await FilingItem.update({FilingItem.verdict: "approved"}).where((FilingItem.filing == filing_id) & (FilingItem.verdict == ""))
            await _publish(filing, department)
        else:
            await _settle_statuses(department.id)
        await portal.audit(f"catalog.filing.{status}", actor=user, target_type="catalog_filing", target_id=filing_id,
                           summary=f"{department.name} v{filing['version']}")
    portal.notify(filing["submitted_by"], "catalog_filing_decided", filing=filing_id, status=status,
                        department=department.name, version=filing["version"])


def _entry(filing: dict, department: access.DepartmentInfo, resource_id: int, data: dict) -> CatalogEntry:
    def code_of(label: str) -> str:
        return label.split(" ", 1)[0] if label else ""

    classification = code_of(data["classification"])
    return CatalogEntry(
        resource_id=resource_id, filing=filing["id"], unit=department.unit_id, department=department.id,
        code=data["code"], name=data["name"], abstract=data["abstract"],
        items_text="\n".join(item["name"] for item in data["items"]),
        provider=data["provider"], provider_code=data["provider_code"], classification_code=classification,
        class_item=classification[:3], basic_code=code_of(data["basic_classification"]),
        thematic_code=code_of(data["thematic_classification"]), format=data["format"], share_type=data["share_type"],
        share_method=data["share_method"], open_type=data["open_type"], update_cycle=data["update_cycle"],
        secrecy=data["secrecy"], published_on=date.fromisoformat(data["published_on"]) if data["published_on"] else None,
    )


async def _publish(filing: dict, department: access.DepartmentInfo) -> None:
    """The approved version becomes the department's approved catalog (inside the decision)."""
    kept = await version_snapshots(filing["id"])
    await CatalogEntry.delete().where(CatalogEntry.department == department.id)
    await CatalogFacet.delete().where(CatalogFacet.department == department.id)
    entries = [_entry(filing, department, rid, data) for rid, data in kept.items() if data["secrecy"] not in SECRET_LEVELS]
    if entries:
        groups = Counter((entry.class_item, entry.share_type) for entry in entries)
        now = _now()
        facets = await CatalogFacet.insert(*[
            CatalogFacet(unit=department.unit_id, department=department.id, class_item=class_item, share_type=share_type,
                         entries=count, approved_at=now)
            for (class_item, share_type), count in groups.items()
        ]).returning(CatalogFacet.id, CatalogFacet.class_item, CatalogFacet.share_type)
        facet_of = {(f["class_item"], f["share_type"]): f["id"] for f in facets}
        for entry in entries:
            entry.facet = facet_of[(entry.class_item, entry.share_type)]
        await CatalogEntry.insert(*entries)
    filed = await FilingItem.select(FilingItem.resource_id, FilingItem.snapshot).where(FilingItem.filing == filing["id"])
    removed = [r["resource_id"] for r in filed if _loaded(r["snapshot"]).get("withdrawn")]
    if removed:
        await Resource.delete().where(Resource.id.is_in(removed) & (Resource.status == "withdrawn"))
    await Resource.update({Resource.status: "approved"}).where(
        (Resource.department == department.id) & (Resource.status == "submitted"))
