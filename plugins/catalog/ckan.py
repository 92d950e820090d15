"""A read-only CKAN-compatible Action API over the public part of the total catalogs (CAT-6).

CKAN clients (``ckanapi``, harvesters, portals) read it as a CKAN site: every action answers in
CKAN's envelope ``{"help": …, "success": true, "result": …}``; a fault answers
``{"success": false, "error": {"__type": …, "message": …}}`` with CKAN's status: 404 Not Found
Error, 409 Validation Error (per field) and Search Query Error, 400 for an unknown action.

A package is a public resource (``opendata``): its name is the resource code with ``-`` for
``/`` (``307016001-000012``; ``package_show`` takes the code as written too), its organization
the provider department (``<unit code>-<department id>``), its one resource the distribution
(format, the public page as URL), its extras the catalog's own fields. ``q`` is the total
catalog's substring search (name, abstract, data items, code; ``*:*`` for all); ``fq`` takes
``organization:<name>`` and ``res_format:<format>`` terms; ``rows`` at most 1000.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from plugins.catalog import dcat, opendata
from plugins.catalog.sheet_format import LABELS
from plugins.catalog.tables import Classification

API_VERSION = 3
CKAN_VERSION = "2.10.4"
MAX_ROWS = 1000
DEFAULT_ROWS = 10
MAX_LIST = 10000
FORMAT_NAMES = {"database": "Database", "spreadsheet": "Spreadsheet", "document": "Document", "structured": "XML/JSON",
                "image": "Image", "media": "Media", "api": "API", "other": "Other"}
FORMAT_CODES = {name.lower(): code for code, name in FORMAT_NAMES.items()}
SORTS = {"": "code", "score desc, metadata_modified desc": "code", "name asc": "name", "name desc": "name_desc",
         "title_string asc": "name", "title_string desc": "name_desc", "metadata_modified desc": "modified_desc",
         "metadata_modified asc": "modified"}
FILTER_TERM = re.compile(r'\+?(\w+):(?:"([^"]*)"|(\S+))')


class ActionError(Exception):
    """A CKAN error: its ``__type``, HTTP status and the ``error`` object's other keys."""

    def __init__(self, kind: str, status: int, **details):
        super().__init__(kind)
        self.kind = kind
        self.status = status
        self.details = details

    def error(self) -> dict:
        return {"__type": self.kind, **self.details}


def not_found(what: str = "Not found") -> ActionError:
    return ActionError("Not Found Error", 404, message=what)


def invalid(**fields: str) -> ActionError:
    return ActionError("Validation Error", 409, **{name: [message] for name, message in fields.items()})


def query_error(message: str) -> ActionError:
    return ActionError("Search Query Error", 409, message=f"Search error: {message}")


@dataclass(frozen=True)
class Site:
    """Where the API answers: ``base`` is the portal's address, without a slash."""

    base: str

    def api(self, action: str) -> str:
        return f"{self.base}/api/{API_VERSION}/action/{action}"

    def help(self, action: str) -> str:
        return f"{self.api('help_show')}?name={action}"

    def landing(self, resource_id: int) -> str:
        return f"{self.base}/catalog/open/resources/{resource_id}"


def package_name(code: str) -> str:
    return code.replace("/", "-")


def _code_of(name: str) -> str:
    head, dash, tail = name.rpartition("-")
    return f"{head}/{tail}" if dash else name


# Parameters ------------------------------------------------------------------------------------


def _text(params: dict, name: str, default: str = "") -> str:
    value = params.get(name, default)
    return str(value).strip()[:500] if value is not None else default


def _natural(params: dict, name: str, default: int, maximum: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise invalid(**{name: "Invalid integer"}) from None
    if number < 0:
        raise invalid(**{name: "Must be a natural number"})
    if number > maximum:
        raise invalid(**{name: f"Must be less than or equal to {maximum}"})
    return number


def _flag(params: dict, name: str) -> bool:
    return str(params.get(name, "")).lower() in ("true", "1", "yes", "on")


def _required_id(params: dict) -> str:
    value = _text(params, "id")
    if not value:
        raise invalid(id="Missing value")
    return value


# Dictionaries ----------------------------------------------------------------------------------


def organization_dict(organisation: opendata.Organisation, count: int | None = None) -> dict:
    found = {
        "id": organisation.name, "name": organisation.name, "title": organisation.title, "display_name": organisation.title,
        "description": "", "type": "organization", "is_organization": True, "state": "active",
        "approval_status": "approved", "image_url": "", "image_display_url": "", "created": None,
        "extras": [{"key": "unit", "value": organisation.unit_name}, {"key": "department", "value": organisation.department_name}],
    }
    if count is not None:
        found["package_count"] = count
    return found


def package_dict(site: Site, row: dict, organisation: opendata.Organisation | None, names: dict[str, str]) -> dict:
    name = package_name(row["code"])
    landing = site.landing(row["resource_id"])
    modified = row["approved_at"].isoformat() if row["approved_at"] else None
    tags = [names[code] for code in dict.fromkeys((row["classification_code"], row["basic_code"], row["thematic_code"]))
            if code and code in names]
    frequency, _english = dcat.FREQUENCIES.get(row["update_cycle"], dcat.FREQUENCIES["irregular"])
    access, _english = dcat.ACCESS_RIGHTS[row["open_type"]]
    extras = {
        "identifier": row["code"], "classification_code": row["classification_code"],
        "share_type": row["share_type"], "share_method": row["share_method"], "open_type": row["open_type"],
        "update_cycle": row["update_cycle"], "frequency": f"{dcat.EU}frequency/{frequency}",
        "access_rights": f"{dcat.EU}access-right/{access}", "issued": row["published_on"].isoformat() if row["published_on"] else "",
        "data_items": "、".join(line for line in row["items_text"].splitlines() if line), "provider_code": row["provider_code"],
    }
    return {
        "id": name, "name": name, "title": row["name"], "notes": row["abstract"], "type": "dataset", "state": "active",
        "private": False, "url": landing, "version": None, "license_id": "", "license_title": "",
        "author": row["provider"], "author_email": None, "maintainer": row["provider"], "maintainer_email": None,
        "metadata_created": modified, "metadata_modified": modified, "creator_user_id": None,
        "owner_org": organisation.name if organisation else None,
        "organization": organization_dict(organisation) if organisation else None,
        "tags": [{"name": tag, "display_name": tag, "state": "active", "vocabulary_id": None} for tag in tags],
        "num_tags": len(tags), "groups": [],
        "resources": [{
            "id": f"{name}-distribution", "package_id": name, "position": 0, "state": "active",
            "name": row["name"], "url": landing, "format": FORMAT_NAMES.get(row["format"], row["format"]),
            "description": f"{LABELS['format'].get(row['format'], '')}；共享方式：{LABELS['share_method'].get(row['share_method'], '不予共享')}；"
                           f"{LABELS['open_type'][row['open_type']]}",
            "created": modified, "last_modified": None, "mimetype": None, "url_type": None,
        }],
        "num_resources": 1,
        "extras": [{"key": key, "value": value} for key, value in extras.items()],
    }


async def _classification_names(rows: list[dict]) -> dict[str, str]:
    codes = sorted({code for row in rows for code in (row["classification_code"], row["basic_code"], row["thematic_code"]) if code})
    if not codes:
        return {}
    return {r["code"]: r["name"] for r in await Classification.select(Classification.code, Classification.name)
            .where(Classification.code.is_in(codes))}


async def packages(site: Site, rows: list[dict]) -> list[dict]:
    organisations = await opendata.describe_departments(row["department"] for row in rows)
    names = await _classification_names(rows)
    return [package_dict(site, row, organisations.get(row["department"]), names) for row in rows]


# Actions ---------------------------------------------------------------------------------------


async def package_list(site: Site, params: dict):
    """The names of the public packages, by name (``limit``, ``offset``)."""
    limit = _natural(params, "limit", MAX_LIST, MAX_LIST)
    offset = _natural(params, "offset", 0, 10**9)
    rows = await opendata.entries(limit=limit, offset=offset)
    return [package_name(row["code"]) for row in rows]


async def package_show(site: Site, params: dict):
    """One public package by name (or resource code)."""
    wanted = _required_id(params)
    row = await opendata.entry_by_code(_code_of(wanted) if "/" not in wanted else wanted)
    if row is None:
        raise not_found()
    return (await packages(site, [row]))[0]


async def _search_filter(params: dict) -> opendata.Filter:
    q = _text(params, "q")
    text = "" if q in ("", "*:*", "*") else q
    departments, formats = None, None
    fq = _text(params, "fq")
    leftover = FILTER_TERM.sub("", fq).strip()
    if leftover:
        raise query_error(f"cannot parse fq: {leftover[:60]}")
    for match in FILTER_TERM.finditer(fq):
        field, value = match[1], match[2] if match[2] is not None else match[3]
        if field in ("organization", "owner_org"):
            organisation = await opendata.organisation_named(value)
            departments = (departments or ()) + ((organisation.department_id,) if organisation else (0,))
        elif field == "res_format":
            formats = (formats or ()) + (FORMAT_CODES.get(value.lower(), "?"),)
        else:
            raise query_error(f"unsupported field in fq: {field} (organization, res_format)")
    return opendata.Filter(text=text, department_ids=departments, formats=formats)


async def package_search(site: Site, params: dict):
    """Public packages matching ``q`` and ``fq``, ``rows`` from ``start``, sorted by ``sort``."""
    rows = _natural(params, "rows", DEFAULT_ROWS, MAX_ROWS)
    start = _natural(params, "start", 0, 10**9)
    sort = _text(params, "sort").lower()
    if sort not in SORTS:
        raise query_error(f"cannot sort by {sort[:60]} ({', '.join(s for s in SORTS if s)})")
    where = await _search_filter(params)
    found = await opendata.entries(where, order=SORTS[sort], limit=rows, offset=start)
    return {"count": await opendata.count(where), "results": await packages(site, found), "sort": sort or "score desc, metadata_modified desc",
            "facets": {}, "search_facets": {}}


async def organization_list(site: Site, params: dict):
    """The departments publishing public packages: names, or dicts with ``all_fields``."""
    limit = _natural(params, "limit", MAX_LIST, MAX_LIST)
    offset = _natural(params, "offset", 0, 10**9)
    found = (await opendata.organisations())[offset:offset + limit]
    if _flag(params, "all_fields"):
        return [organization_dict(organisation, count) for organisation, count in found]
    return [organisation.name for organisation, _count in found]


async def organization_show(site: Site, params: dict):
    """One organization by name; ``include_datasets`` adds its packages (at most 1000)."""
    organisation = await opendata.organisation_named(_required_id(params))
    if organisation is None:
        raise not_found()
    where = opendata.Filter(department_ids=(organisation.department_id,))
    result = organization_dict(organisation, await opendata.count(where))
    if _flag(params, "include_datasets"):
        result["packages"] = await packages(site, await opendata.entries(where, limit=MAX_ROWS))
    return result


async def status_show(site: Site, params: dict):
    """What this site is: CKAN's version it answers as, its address, its extensions (none)."""
    return {"ckan_version": CKAN_VERSION, "site_title": "Government data catalog", "site_description": "",
            "site_url": site.base, "locale_default": "zh_CN", "extensions": []}


async def help_show(site: Site, params: dict):
    """The documentation of an action (``name``)."""
    name = _text(params, "name")
    if name not in ACTIONS:
        raise not_found(f"Action function not found: {name[:60]}")
    return ACTIONS[name].__doc__


ACTIONS = {function.__name__: function for function in (
    package_list, package_show, package_search, organization_list, organization_show, status_show, help_show)}


async def call(site: Site, action: str, params: dict) -> tuple[int, dict]:
    """The HTTP status and the envelope of ``action`` called with ``params``."""
    envelope = {"help": site.help(action)}
    function = ACTIONS.get(action)
    if function is None:
        return 400, {**envelope, "success": False,
                     "error": {"__type": "Bad Request", "message": f"Bad request - Action name not known: {action[:60]}"}}
    try:
        result = await function(site, params)
    except ActionError as error:
        return error.status, {**envelope, "success": False, "error": error.error()}
    return 200, {**envelope, "success": True, "result": result}
