"""Tables of the government data catalog (政务数据目录, CAT-1 … CAT-3).

Three layers, each for its readers:

- the working catalog a department's editors compile: ``Resource`` and its ``DataItem`` rows,
  classified in the trees of ``Classification`` (基础 / 主题 / 部门信息资源目录);
- the filings (备案) of that catalog with the big-data bureau of its level: ``Filing`` is one
  version, ``FilingItem`` the snapshot of each resource as filed with the reviewer's verdict and
  opinion on it; versions and reviews are kept for ever;
- the approved catalog: ``CatalogEntry``, one row per resource of a department's latest approved
  version, never a secret one. Total catalogs (总目录), search and every shared view read only
  these rows, so nothing unapproved or classified can leak into them.

Units and departments are the core's (``core_unit``, ``core_department``); a unit's total catalog
is the entries of its own departments and of every unit below it.
"""

from piccolo.columns import JSON, Boolean, Date, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import Department


class Classification(Table, tablename="catalog_classification"):
    """A node of a classification tree: 类 (level 1, one digit: 1 basic, 2 thematic, 3
    departmental), 项 (level 2, two more digits), 目 (level 3, three more), 细目 (level 4, one to
    six more). ``code`` is the full 分类码, e.g. ``101`` 人口 or ``101001``."""

    # basic (基础信息资源目录), thematic (主题信息资源目录), departmental (部门信息资源目录)
    tree = Varchar(length=12, index=True)
    code = Varchar(length=16, unique=True)
    level = Integer()
    name = Varchar(length=100)
    parent = ForeignKey("self", null=True, default=None, on_delete=OnDelete.restrict)
    position = Integer(default=0)
    # A retired node keeps the resources already classified under it but takes no new ones.
    retired = Boolean(default=False)


class CodeSequence(Table, tablename="catalog_code_sequence"):
    """The last 顺序码 given under a classification code; the resource code is
    ``<分类码>/<顺序码>``. One row per code (unique), advanced by one upsert, never given twice."""

    classification_code = Varchar(length=16, unique=True)
    last_number = Integer(default=0)


class Resource(Table, tablename="catalog_resource"):
    """A data resource (信息资源) of a department's working catalog, with the core metadata of the
    national compilation guide (政务信息资源目录编制指南)."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, index=True)
    # The classification the code is made from (any tree), and the optional places of the same
    # resource in the basic and thematic trees.
    classification = ForeignKey(Classification, null=True, default=None, on_delete=OnDelete.restrict, index=True)
    basic_classification = ForeignKey(Classification, null=True, default=None, on_delete=OnDelete.restrict)
    thematic_classification = ForeignKey(Classification, null=True, default=None, on_delete=OnDelete.restrict)
    # 信息资源代码: 分类码/顺序码, generated; unique for ever (a 顺序码 is never given twice).
    code = Varchar(length=40, unique=True)
    name = Varchar(length=200)
    # 信息资源提供方 and its code (统一社会信用代码).
    provider = Varchar(length=100, default="")
    provider_code = Varchar(length=18, default="")
    abstract = Text(default="")
    # database, spreadsheet, document, structured, image, media, api, other; and e.g. "MySQL", "xlsx".
    format = Varchar(length=12, default="database")
    format_detail = Varchar(length=60, default="")
    # unconditional (无条件共享), conditional (有条件共享), none (不予共享)
    share_type = Varchar(length=20, default="conditional")
    # The conditions of use (conditional) or the legal basis for refusing (none).
    share_conditions = Text(default="")
    # platform_api (共享平台接口), platform_exchange (库表交换), file (文件下载), offline (离线拷贝)
    share_method = Varchar(length=20, default="")
    # open (无条件开放), conditional (有条件开放), closed (不予开放)
    open_type = Varchar(length=12, default="closed")
    open_conditions = Text(default="")
    # realtime, daily, weekly, monthly, quarterly, half_yearly, yearly, irregular
    update_cycle = Varchar(length=12, default="irregular")
    published_on = Date(null=True, default=None)
    # 关联资源代码: resource codes separated by single spaces.
    related_codes = Varchar(length=500, default="")
    # public, internal, secret, confidential, top_secret: secret ones (the last three) never
    # enter an approved catalog, a total catalog, a search or any shared or public view.
    secrecy = Varchar(length=12, default="internal")
    # draft (new or changed since the approved version), submitted (in the filing under review:
    # not editable), approved (as in the approved version), withdrawn (removed at the next approval)
    status = Varchar(length=12, default="draft", index=True)
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_by = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class DataItem(Table, tablename="catalog_data_item"):
    """An attribute (信息项) of a resource, in the resource's order."""

    resource = ForeignKey(Resource, on_delete=OnDelete.cascade, index=True)
    position = Integer(default=0)
    name = Varchar(length=100)
    # string, integer, decimal, date, datetime, boolean, binary
    data_type = Varchar(length=12, default="string")
    length = Integer(null=True, default=None)
    description = Varchar(length=500, default="")


class Filing(Table, tablename="catalog_filing"):
    """One version of a department's catalog, filed (备案) with the big-data bureau of its unit.

    ``version`` counts 1, 2, 3 … per department (unique by a raw index); at most one filing per
    department is ``submitted`` at a time (a partial unique index). Reviewed by a holder of the
    reviewer role in ``unit``: ``approved`` makes it the department's approved catalog,
    ``returned`` sends it back with opinions; ``withdrawn`` by the department before review."""

    department = ForeignKey(Department, on_delete=OnDelete.restrict, index=True)
    unit = Integer(index=True)
    version = Integer()
    status = Varchar(length=12, default="submitted", index=True)
    note = Text(default="")
    resource_count = Integer(default=0)
    submitted_by = Integer()
    submitted_at = Timestamptz(default=TimestamptzNow())
    reviewer = Integer(null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    opinion = Text(default="")


class FilingItem(Table, tablename="catalog_filing_item"):
    """A resource as filed in a version: its whole description (``snapshot``: the fields and the
    data items) and the reviewer's verdict on it (``""`` not yet, ``approved``, ``returned``)."""

    filing = ForeignKey(Filing, on_delete=OnDelete.cascade, index=True)
    # The working resource's id: the key that follows a resource from version to version.
    resource_id = Integer()
    code = Varchar(length=40)
    name = Varchar(length=200)
    snapshot = JSON()
    verdict = Varchar(length=10, default="")
    opinion = Text(default="")


class CatalogEntry(Table, tablename="catalog_entry"):
    """A resource of a department's approved catalog as every shared view reads it: written when
    a filing is approved (the department's rows replaced by the version's), never for a secret
    resource. Searched by substring over name, abstract, data items and code."""

    resource_id = Integer(unique=True)
    filing = Integer(index=True)
    unit = Integer(index=True)
    department = Integer(index=True)
    code = Varchar(length=40)
    name = Varchar(length=200)
    abstract = Text(default="")
    # The data items' names, one line each: searched with the rest.
    items_text = Text(default="")
    provider = Varchar(length=100, default="")
    provider_code = Varchar(length=18, default="")
    classification_code = Varchar(length=16, default="")
    # The 项 (first three digits) of the classification: the facet of counts per classification.
    class_item = Varchar(length=3, default="", index=True)
    basic_code = Varchar(length=16, default="")
    thematic_code = Varchar(length=16, default="")
    format = Varchar(length=12, default="")
    share_type = Varchar(length=20, default="")
    share_method = Varchar(length=20, default="")
    open_type = Varchar(length=12, default="")
    update_cycle = Varchar(length=12, default="")
    secrecy = Varchar(length=12, default="")
    published_on = Date(null=True, default=None)
    approved_at = Timestamptz(default=TimestamptzNow())
    # The ``CatalogFacet`` row of the entry's department, class item and share type: a search
    # counts its matches per facet row with one GROUP BY over one integer column.
    facet = Integer(null=True, default=None)


class CatalogFacet(Table, tablename="catalog_facet"):
    """How many approved entries a department has per classification 项 and share type; written
    with the entries at each approval. A total catalog's counts without a search are sums of
    these few rows (never a scan of the entries); a search groups its matches by ``facet``."""

    unit = Integer(index=True)
    department = Integer(index=True)
    class_item = Varchar(length=3, default="")
    share_type = Varchar(length=20, default="")
    entries = Integer(default=0)
    # When the approval wrote the row: with the id, what tells a search's cached counts are current.
    approved_at = Timestamptz(default=TimestamptzNow())


CATALOG_TABLES = [Classification, CodeSequence, Resource, DataItem, Filing, FilingItem, CatalogEntry, CatalogFacet]
