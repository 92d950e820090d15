"""Raw step (written by hand: engine-specific SQL, multi-column and partial indexes, data).

- Filings: versions unique per department; at most one filing per department under review
  (a partial unique index, the same SQL on SQLite and PostgreSQL).
- Approved entries: substring search over name, abstract, data items and code, Chinese
  included — as the mailbox's search (webmail migration 2026-11-26T12:30:00): SQLite a
  contentless FTS5 trigram index kept by triggers, every value indexed with two spaces after it
  so that one or two characters are found through the fts5vocab table; PostgreSQL pg_trgm GIN
  indexes, which ILIKE '%…%' uses. Composite indexes for the facets of a total catalog.
- The classification trees of the national compilation guide (政务信息资源目录编制指南):
  基础 (1), 主题 (2) and 部门 (3) 信息资源目录 with their 项 and a first set of 目 and 细目;
  editable afterwards, so the backwards step deletes only the nodes nothing refers to.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T14:30:49:000000"
VERSION = "1.38.0"
DESCRIPTION = "catalog: filing and facet indexes, substring search of approved entries, the classification trees (CAT-1, CAT-3)"

INDEXES = {
    "catalog_filing_version": "UNIQUE INDEX {name} ON catalog_filing (department, version)",
    "catalog_filing_pending": "UNIQUE INDEX {name} ON catalog_filing (department) WHERE status = 'submitted'",
    "catalog_filing_item_resource": "INDEX {name} ON catalog_filing_item (resource_id, filing)",
    "catalog_entry_unit_class": "INDEX {name} ON catalog_entry (unit, class_item)",
    "catalog_entry_unit_department": "INDEX {name} ON catalog_entry (unit, department)",
    "catalog_entry_unit_share": "INDEX {name} ON catalog_entry (unit, share_type)",
    "catalog_entry_code": "INDEX {name} ON catalog_entry (code)",
}

SEARCHED = ("name", "abstract", "items_text", "code")
_NAMES = ", ".join(SEARCHED)


def _padded(row: str) -> str:
    return ", ".join(f"{row}.{c} || '  '" for c in SEARCHED)


_FORGET_OLD = f"INSERT INTO catalog_entry_fts (catalog_entry_fts, rowid, {_NAMES}) VALUES ('delete', old.id, {_padded('old')});"
_INDEX_NEW = f"INSERT INTO catalog_entry_fts (rowid, {_NAMES}) VALUES (new.id, {_padded('new')});"

SQLITE_SEARCH = (
    f"CREATE VIRTUAL TABLE catalog_entry_fts USING fts5({_NAMES}, content='', tokenize='trigram', columnsize=0)",
    "CREATE VIRTUAL TABLE catalog_entry_fts_instances USING fts5vocab(catalog_entry_fts, 'instance')",
    f"CREATE TRIGGER catalog_entry_fts_insert AFTER INSERT ON catalog_entry BEGIN {_INDEX_NEW} END",
    f"CREATE TRIGGER catalog_entry_fts_delete AFTER DELETE ON catalog_entry BEGIN {_FORGET_OLD} END",
    f"CREATE TRIGGER catalog_entry_fts_update AFTER UPDATE OF {_NAMES} ON catalog_entry BEGIN {_FORGET_OLD} {_INDEX_NEW} END",
)
SQLITE_SEARCH_BACKWARDS = (
    "DROP TRIGGER IF EXISTS catalog_entry_fts_insert",
    "DROP TRIGGER IF EXISTS catalog_entry_fts_delete",
    "DROP TRIGGER IF EXISTS catalog_entry_fts_update",
    "DROP TABLE IF EXISTS catalog_entry_fts_instances",
    "DROP TABLE IF EXISTS catalog_entry_fts",
)
POSTGRES_SEARCH = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    *(f"CREATE INDEX IF NOT EXISTS catalog_entry_{c}_trgm ON catalog_entry USING gin ({c} gin_trgm_ops)" for c in SEARCHED),
)
POSTGRES_SEARCH_BACKWARDS = tuple(f"DROP INDEX IF EXISTS catalog_entry_{c}_trgm" for c in SEARCHED)

# (code, name): the tree and the level follow from the code (1 digit 类, 3 项, 6 目, more 细目).
TREES = (
    ("1", "基础信息资源目录"),
    ("101", "人口基础信息资源"),
    ("101001", "户籍人口信息"), ("101002", "流动人口信息"), ("101003", "出生与死亡登记信息"),
    ("102", "法人单位基础信息资源"),
    ("102001", "企业法人信息"), ("102002", "机关事业单位信息"), ("102003", "社会组织信息"),
    ("103", "自然资源和空间地理基础信息资源"),
    ("103001", "土地资源信息"), ("103002", "水资源信息"), ("103003", "基础测绘与地理空间信息"),
    ("104", "社会信用基础信息资源"),
    ("104001", "自然人信用信息"), ("104002", "法人和其他组织信用信息"),
    ("105", "电子证照基础信息资源"),
    ("105001", "个人电子证照"), ("105002", "法人电子证照"),
    ("2", "主题信息资源目录"),
    ("201", "公共服务"), ("202", "健康保障"), ("203", "社会保障"), ("204", "食品药品安全"),
    ("205", "安全生产"), ("206", "价格监管"), ("207", "能源安全"), ("208", "信用体系"),
    ("209", "城乡建设"), ("210", "社区治理"), ("211", "生态环保"), ("212", "应急维稳"),
    ("3", "部门信息资源目录"),
    ("301", "党中央"), ("302", "全国人大常委会"), ("303", "国务院"), ("304", "全国政协"),
    ("305", "最高人民法院"), ("306", "最高人民检察院"),
    ("307", "省(自治区、直辖市)及其下各级政务部门"),
    ("307001", "办公厅(室)"), ("307002", "发展和改革"), ("307003", "教育"), ("307004", "科学技术"),
    ("307005", "工业和信息化"), ("307006", "公安"), ("307007", "民政"), ("307008", "司法行政"),
    ("307009", "财政"), ("307010", "人力资源和社会保障"), ("307011", "自然资源"), ("307012", "生态环境"),
    ("307013", "住房和城乡建设"), ("307014", "交通运输"), ("307015", "水利"), ("307016", "农业农村"),
    ("307016001", "农村经营管理"), ("307016002", "种植业管理"), ("307016003", "畜牧兽医"),
    ("307017", "商务"), ("307018", "文化和旅游"), ("307019", "卫生健康"), ("307020", "应急管理"),
    ("307021", "市场监督管理"), ("307022", "统计"), ("307023", "大数据"),
    ("308", "计划单列市及其下各级政务部门"),
)
TREE_OF = {"1": "basic", "2": "thematic", "3": "departmental"}


def _level(code: str) -> int:
    return {1: 1, 3: 2, 6: 3}.get(len(code), 4)


def _parent(code: str) -> str | None:
    return {1: None, 3: code[:1], 6: code[:3]}.get(len(code), code[:6])


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _seed_statements() -> list[str]:
    statements = []
    positions: dict[str | None, int] = {}
    for code, name in TREES:
        parent = _parent(code)
        positions[parent] = positions.get(parent, 0) + 1
        parent_sql = f"(SELECT id FROM catalog_classification WHERE code = {_quoted(parent)})" if parent else "NULL"
        statements.append(
            "INSERT INTO catalog_classification (tree, code, level, name, parent, position, retired) VALUES "
            f"({_quoted(TREE_OF[code[0]])}, {_quoted(code)}, {_level(code)}, {_quoted(name)}, {parent_sql}, {positions[parent]}, false)"
        )
    return statements


def _unseed_statements() -> list[str]:
    # Deepest first; a node a resource or another node refers to stays.
    unused = ("NOT EXISTS (SELECT 1 FROM catalog_resource r WHERE catalog_classification.id IN "
              "(r.classification, r.basic_classification, r.thematic_classification)) AND NOT EXISTS "
              "(SELECT 1 FROM catalog_classification c WHERE c.parent = catalog_classification.id)")
    return [f"DELETE FROM catalog_classification WHERE code = {_quoted(code)} AND {unused}"
            for code, _ in sorted(TREES, key=lambda node: -len(node[0]))]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="catalog", description=DESCRIPTION)

    async def create():
        engine = engine_finder()
        for name, definition in INDEXES.items():
            kind, _, target = definition.partition(" {name} ")
            await engine.run_ddl(f"CREATE {kind} IF NOT EXISTS {name} {target}")
        for statement in SQLITE_SEARCH if engine.engine_type == "sqlite" else POSTGRES_SEARCH:
            await engine.run_ddl(statement)
        for statement in _seed_statements():
            await engine.run_ddl(statement)

    async def drop():
        engine = engine_finder()
        for statement in _unseed_statements():
            await engine.run_ddl(statement)
        for statement in SQLITE_SEARCH_BACKWARDS if engine.engine_type == "sqlite" else POSTGRES_SEARCH_BACKWARDS:
            await engine.run_ddl(statement)
        for name in INDEXES:
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
