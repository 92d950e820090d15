"""The catalog as the spreadsheet bureaus exchange (CAT-6): export, import all or nothing with
every faulty row named, round trip into an empty department, limits and refused files."""

import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook

from plugins.catalog import filing, resources, spreadsheet, workbook
from plugins.catalog.errors import Forbidden
from plugins.catalog.resources import ItemForm
from plugins.catalog.sheet_format import ITEM_COLUMNS, RESOURCE_COLUMNS
from plugins.catalog.tables import CodeSequence, DataItem, Resource
from portal import i18n
from portal.testing import login_as, post_form

HEADERS = [c.header for c in RESOURCE_COLUMNS]
ITEM_HEADERS = [c.header for c in ITEM_COLUMNS]
COMPARED = ("name", "provider", "provider_code", "abstract", "format", "format_detail", "share_type", "share_conditions",
            "share_method", "open_type", "open_conditions", "update_cycle", "published_on", "secrecy", "classification",
            "basic_classification", "thematic_classification")


@pytest.fixture(autouse=True)
def english(client):
    """Messages in English (service calls and pages), unless a test asks for Chinese."""
    i18n.set_locale("en")
    client.headers["accept-language"] = "en"


def book(rows: list[dict], items: list[dict] | None = None, *, title_rows: int = 0, headers=None) -> bytes:
    """A workbook as a bureau fills it: cells by header, the items sheet when ``items`` is given."""
    wb = Workbook()
    sheet = wb.active
    sheet.title = "信息资源"
    headers = headers or HEADERS
    for _n in range(title_rows):
        sheet.append(["黄河县农业农村局政务数据资源目录"])
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h.strip("*"), "") for h in headers])
    if items is not None:
        item_sheet = wb.create_sheet("信息项")
        item_sheet.append(ITEM_HEADERS)
        for item in items:
            item_sheet.append([item.get(h, "") for h in ITEM_HEADERS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def good_row(uscc, **changes) -> dict:
    row = {"信息资源分类": "307016001 农业农村", "信息资源名称": "农机购置补贴发放信息", "信息资源提供方": "黄河县农业农村局",
           "提供方代码": uscc(), "信息资源摘要": "农机购置补贴的发放记录", "信息资源格式": "数据库", "格式说明": "MySQL",
           "信息项名称": "补贴对象、补贴金额", "共享类型": "有条件共享", "共享条件": "仅用于补贴核验", "共享方式": "接口服务",
           "是否向社会开放": "不予开放", "更新周期": "每月", "发布日期": "2026-03-01", "密级": "内部"}
    row.update(changes)
    return row


async def described(department: int) -> list[dict]:
    """The department's resources as a person compares them: every field but the code, and the items."""
    rows = await Resource.select().where(Resource.department == department).order_by(Resource.name)
    found = []
    for row in rows:
        items = await DataItem.select(DataItem.name, DataItem.data_type, DataItem.length, DataItem.description) \
            .where(DataItem.resource == row["id"]).order_by(DataItem.position)
        found.append({**{name: row[name] for name in COMPARED}, "items": items})
    return found


@pytest.fixture
async def agri_catalog(org, make_form, valid_uscc):
    """Three resources of 黄河县农业农村局: one related to another, one open to the public, items of every kind."""
    editor = await org.user("agri_editor")
    first = await resources.create(editor, org.agri, await make_form(
        "农村土地承包经营权登记信息", basic_classification_id="", thematic_classification_id="",
        items=[ItemForm("承包方名称", "string", "100", "承包方的姓名或单位名称"), ItemForm("承包面积", "decimal", "", "亩"),
               ItemForm("登记日期", "date", "", ""), ItemForm("是否确权", "boolean", "", "")]), org.portal)
    first_code = (await Resource.select(Resource.code).where(Resource.id == first).first())["code"]
    await resources.create(editor, org.agri, await make_form(
        "农机购置补贴发放信息", share_type="unconditional", share_conditions="", share_method="file", open_type="open",
        secrecy="public", update_cycle="quarterly", related_codes=first_code, format="spreadsheet", format_detail="xlsx",
        items=[ItemForm("补贴对象", "string", "50", ""), ItemForm("补贴金额", "decimal", "12", "元")]), org.portal)
    await resources.create(editor, org.agri, await make_form(
        "动物防疫档案", share_type="none", share_conditions="《动物防疫法》第二十条", share_method="", format="document",
        format_detail="PDF", items=[], published_on="", update_cycle="irregular", secrecy="secret"), org.portal)
    return editor


async def test_a_department_s_catalog_goes_to_an_empty_department_and_back_unchanged(org, agri_catalog):
    _department, data = await spreadsheet.export_workbook(agri_catalog, org.agri)
    market_editor = await org.user("market_editor")
    result = await spreadsheet.import_workbook(market_editor, org.market, data, org.portal)
    assert len(result.created) == 3 and not result.updated
    assert await described(org.market) == await described(org.agri)
    # New codes under the same classification; the relation follows the copy of its resource.
    copies = {r["name"]: r for r in await Resource.select().where(Resource.department == org.market)}
    originals = {r["name"]: r for r in await Resource.select().where(Resource.department == org.agri)}
    assert {r["code"] for r in copies.values()}.isdisjoint(r["code"] for r in originals.values())
    assert copies["农机购置补贴发放信息"]["related_codes"] == copies["农村土地承包经营权登记信息"]["code"]
    assert all(r["status"] == "draft" for r in copies.values())


async def test_the_export_is_one_row_per_resource_with_the_guide_s_headers_and_the_items_on_their_sheet(org, agri_catalog):
    _department, data = await spreadsheet.export_workbook(agri_catalog, org.agri)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["信息资源", "信息项", "分类代码", "填写说明"]
    rows = list(wb["信息资源"].iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    assert HEADERS[:8] == ["信息资源分类", "信息资源名称", "信息资源代码", "信息资源提供方", "提供方代码", "信息资源摘要",
                           "信息资源格式", "格式说明"]
    by_name = {row[1]: dict(zip(HEADERS, row)) for row in rows[1:]}
    subsidy = by_name["农机购置补贴发放信息"]
    assert (subsidy["共享类型"], subsidy["共享方式"], subsidy["是否向社会开放"], subsidy["更新周期"], subsidy["密级"]) == \
        ("无条件共享", "文件下载", "无条件开放", "每季度", "公开")
    assert subsidy["信息项名称"] == "补贴对象、补贴金额"
    assert subsidy["信息资源分类"].startswith("307016001 ")
    assert subsidy["发布日期"].date() == date(2026, 3, 1)
    items = list(wb["信息项"].iter_rows(values_only=True))
    assert list(items[0]) == ITEM_HEADERS
    assert [row[2:5] for row in items[1:] if row[1] == "农机购置补贴发放信息"] == [("补贴对象", "字符型", 50), ("补贴金额", "数值型", 12)]
    assert ("307016001", ) == next(row[:1] for row in wb["分类代码"].iter_rows(values_only=True) if row[0] == "307016001")


async def test_text_that_looks_like_a_formula_is_exported_as_text_and_comes_back(org, make_form):
    editor = await org.user("agri_editor")
    await resources.create(editor, org.agri, await make_form("公式样的摘要", abstract='=HYPERLINK("http://evil.example","点击")'),
                           org.portal)
    _department, data = await spreadsheet.export_workbook(editor, org.agri)
    cell = load_workbook(io.BytesIO(data))["信息资源"]["F2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://evil.example","点击")', "s")
    result = await spreadsheet.import_workbook(editor, org.agri, data, org.portal)
    assert len(result.unchanged) == 1


async def test_importing_its_own_export_changes_nothing_and_keeps_the_approved_status(org, agri_catalog):
    filing_id = await filing.submit(agri_catalog, org.agri, "", org.portal)
    await filing.decide(await org.user("county_reviewer"), filing_id, "approve", "", org.portal)
    _department, data = await spreadsheet.export_workbook(agri_catalog, org.agri)
    result = await spreadsheet.import_workbook(agri_catalog, org.agri, data, org.portal)
    assert (len(result.created), len(result.updated), len(result.unchanged)) == (0, 0, 3)
    assert {r["status"] for r in await Resource.select(Resource.status).where(Resource.department == org.agri)} == {"approved"}


async def test_a_row_changed_in_the_sheet_changes_that_resource_only(org, agri_catalog):
    _department, data = await spreadsheet.export_workbook(agri_catalog, org.agri)
    wb = load_workbook(io.BytesIO(data))
    sheet = wb["信息资源"]
    for row in sheet.iter_rows(min_row=2):
        if row[1].value == "农机购置补贴发放信息":
            row[5].value = "农机购置补贴的发放记录（2026年起含报废更新补贴）"
    out = io.BytesIO()
    wb.save(out)
    result = await spreadsheet.import_workbook(agri_catalog, org.agri, out.getvalue(), org.portal)
    assert (len(result.created), len(result.updated), len(result.unchanged)) == (0, 1, 2)
    changed = await Resource.select().where(Resource.name == "农机购置补贴发放信息").first()
    assert changed["abstract"].endswith("含报废更新补贴）") and changed["status"] == "draft"
    assert await Resource.count().where(Resource.department == org.agri) == 3


async def test_one_bad_row_imports_nothing_and_every_fault_is_named_by_sheet_row_and_column(org, valid_uscc):
    editor = await org.user("agri_editor")
    rows = [
        good_row(valid_uscc),
        good_row(valid_uscc, 信息资源名称="", 提供方代码="12345", 共享类型="随便共享"),
        good_row(valid_uscc, 信息资源名称="有条件共享无条件", 共享条件="", 信息资源分类="999", 发布日期="明年"),
        good_row(valid_uscc, 信息资源名称="开放的内部资源", 是否向社会开放="无条件开放"),
    ]
    items = [{"信息资源名称": "农机购置补贴发放信息", "信息项名称": "补贴对象", "数据类型": "字符型", "数据长度": "50"},
             {"信息资源名称": "农机购置补贴发放信息", "信息项名称": "补贴金额", "数据类型": "金额", "数据长度": "-1"},
             {"信息资源名称": "不存在的资源", "信息项名称": "甲"}]
    with pytest.raises(spreadsheet.ImportRefused) as refused:
        await spreadsheet.import_workbook(editor, org.agri, book(rows, items), org.portal)
    faults = {(e.sheet, e.row, e.column) for e in refused.value.errors}
    assert faults == {
        ("信息资源", 3, "信息资源名称"), ("信息资源", 3, "提供方代码"), ("信息资源", 3, "共享类型"),
        ("信息资源", 4, "共享条件"), ("信息资源", 4, "信息资源分类"), ("信息资源", 4, "发布日期"),
        ("信息资源", 5, "是否向社会开放"),
        ("信息项", 3, "数据类型"), ("信息项", 3, "数据长度"), ("信息项", 4, "信息资源名称"),
    }
    message = next(e.message for e in refused.value.errors if e.column == "共享类型")
    assert "无条件共享、有条件共享、不予共享" in message
    assert "字符型、整数型" in next(e.message for e in refused.value.errors if e.column == "数据类型")
    assert await Resource.count() == 0
    assert await CodeSequence.count() == 0


async def test_a_sheet_without_items_sheet_takes_the_item_names_and_tolerates_a_title_row_and_marked_headers(org, valid_uscc):
    editor = await org.user("agri_editor")
    headers = [f"*{h}" if h in ("信息资源名称", "信息资源分类") else h for h in HEADERS]
    data = book([good_row(valid_uscc, 信息项名称="补贴对象、补贴金额，发放日期")], title_rows=2, headers=headers)
    result = await spreadsheet.import_workbook(editor, org.agri, data, org.portal)
    assert len(result.created) == 1
    items = await DataItem.select(DataItem.name, DataItem.data_type).order_by(DataItem.position)
    assert [(i["name"], i["data_type"]) for i in items] == [("补贴对象", "string"), ("补贴金额", "string"), ("发放日期", "string")]


async def test_item_names_that_contradict_the_items_sheet_are_refused(org, valid_uscc):
    editor = await org.user("agri_editor")
    items = [{"信息资源名称": "农机购置补贴发放信息", "信息项名称": "补贴对象"}]
    with pytest.raises(spreadsheet.ImportRefused) as refused:
        await spreadsheet.import_workbook(editor, org.agri, book([good_row(valid_uscc)], items), org.portal)
    assert [(e.row, e.column) for e in refused.value.errors] == [(2, "信息项名称")]


async def test_only_checking_writes_nothing(org, valid_uscc):
    editor = await org.user("agri_editor")
    result = await spreadsheet.import_workbook(editor, org.agri, book([good_row(valid_uscc)]), org.portal, check_only=True)
    assert len(result.created) == 1 and result.checked_only
    assert await Resource.count() == 0


def _zip(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize("data, says", [
    (b"", "empty"),
    ("信息资源名称,信息资源分类\n甲,101\n".encode(), "not an Excel workbook"),
    (workbook.OLE2_SIGNATURE + b"\0" * 512, "Excel 97-2003"),
    (_zip({"word/document.xml": b"<w/>", "[Content_Types].xml": b"<Types/>"}), "not an Excel workbook"),
    (_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<broken"}), "cannot be read"),
    (_zip({"[Content_Types].xml": b"<Types/>", "xl/a.bin": b"\0" * (workbook.MAX_UNPACKED_BYTES + 1)}), "unpacks to more"),
])
async def test_a_file_that_is_not_a_readable_workbook_gets_a_clear_message(org, data, says):
    editor = await org.user("agri_editor")
    with pytest.raises(spreadsheet.ImportRefused) as refused:
        await spreadsheet.import_workbook(editor, org.agri, data, org.portal)
    assert says in refused.value.message and not refused.value.errors


async def test_size_and_row_limits(org, valid_uscc, monkeypatch):
    editor = await org.user("agri_editor")
    with pytest.raises(spreadsheet.ImportRefused) as refused:
        await spreadsheet.import_workbook(editor, org.agri, b"PK" + b"\0" * workbook.MAX_FILE_BYTES, org.portal)
    assert "larger than 5 MB" in refused.value.message
    monkeypatch.setattr(workbook, "MAX_RESOURCE_ROWS", 2)
    rows = [good_row(valid_uscc, 信息资源名称=f"资源{n}") for n in range(3)]
    with pytest.raises(spreadsheet.ImportRefused) as refused:
        await spreadsheet.import_workbook(editor, org.agri, book(rows), org.portal)
    assert "more than 2 rows" in refused.value.message
    assert await Resource.count() == 0


async def test_a_missing_required_column_is_named(org, valid_uscc):
    editor = await org.user("agri_editor")
    headers = [h for h in HEADERS if h != "更新周期"]
    with pytest.raises(spreadsheet.ImportRefused) as refused:
        await spreadsheet.import_workbook(editor, org.agri, book([good_row(valid_uscc)], headers=headers), org.portal)
    assert [(e.column, e.message) for e in refused.value.errors] == [("更新周期", "The column is missing.")]


async def test_only_the_department_s_editors_import_and_its_editors_and_reviewers_export(org, agri_catalog, valid_uscc):
    data = book([good_row(valid_uscc)])
    for name in ("agri_staff", "market_editor", "county_reviewer"):
        with pytest.raises(Forbidden):
            await spreadsheet.import_workbook(await org.user(name), org.agri, data, org.portal)
    for name in ("agri_staff", "market_editor", "city_reviewer"):
        with pytest.raises(Forbidden):
            await spreadsheet.export_workbook(await org.user(name), org.agri)
    _department, exported = await spreadsheet.export_workbook(await org.user("county_reviewer"), org.agri)
    assert exported.startswith(b"PK")


async def test_a_catalog_under_review_takes_no_import(org, agri_catalog, valid_uscc):
    await filing.submit(agri_catalog, org.agri, "", org.portal)
    with pytest.raises(spreadsheet.ImportRefused) as refused:
        await spreadsheet.import_workbook(agri_catalog, org.agri, book([good_row(valid_uscc)]), org.portal)
    assert "under review" in refused.value.message
    assert await Resource.count().where(Resource.department == org.agri) == 3


async def test_the_template_has_the_layout_the_choices_and_the_classification_codes(app):
    wb = load_workbook(io.BytesIO(await spreadsheet.template_workbook()))
    sheet = wb["信息资源"]
    assert [c.value for c in sheet[1]] == HEADERS
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists["J2"] == '"无条件共享,有条件共享,不予共享"'
    codes = [row[0] for row in wb["分类代码"].iter_rows(min_row=2, values_only=True)]
    assert "307016001" in codes and "1" not in codes


# Pages -----------------------------------------------------------------------------------------


async def upload(client, department: int, data: bytes, **fields):
    return await post_form(client, f"/catalog/interop/departments/{department}/xlsx", fields,
                           files={"file": ("目录.xlsx", data, "application/octet-stream")})


async def test_the_pages_import_show_faults_and_export(client, org, valid_uscc):
    await login_as(client, await org.test_user("agri_editor"))
    page = await client.get("/catalog/interop")
    assert f"/catalog/interop/departments/{org.agri}/xlsx" in page.text and "市场监管局" not in page.text
    bad = await upload(client, org.agri, book([good_row(valid_uscc, 共享类型="随便")]))
    assert bad.status_code == 400
    assert "Nothing was imported" in bad.text and "共享类型" in bad.text and "<td>2</td>" in bad.text
    good = await upload(client, org.agri, book([good_row(valid_uscc)]))
    assert good.status_code == 303
    page = await client.get(good.headers["location"])
    assert "Imported: 1 new, 0 changed, 0 unchanged resources." in page.text and "农机购置补贴发放信息" in page.text
    download = await client.get(f"/catalog/interop/departments/{org.agri}/catalog.xlsx")
    assert download.status_code == 200 and download.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    assert load_workbook(io.BytesIO(download.content))["信息资源"]["B2"].value == "农机购置补贴发放信息"


async def test_the_pages_refuse_other_departments_and_unknown_ids(client, org, valid_uscc):
    await login_as(client, await org.test_user("agri_editor"))
    assert (await client.get(f"/catalog/interop/departments/{org.market}/xlsx")).status_code == 403
    assert (await client.get(f"/catalog/interop/departments/{org.market}/catalog.xlsx")).status_code == 403
    assert (await upload(client, org.market, book([good_row(valid_uscc)]))).status_code == 403
    assert (await client.get("/catalog/interop/departments/999999/xlsx")).status_code == 404
    assert await Resource.count() == 0


async def test_a_reviewer_sees_the_export_but_no_import_form(client, org):
    await login_as(client, await org.test_user("county_reviewer"))
    page = await client.get(f"/catalog/interop/departments/{org.agri}/xlsx")
    assert page.status_code == 200 and "catalog.xlsx" in page.text and "import-form" not in page.text


async def test_the_page_speaks_chinese_by_default(client, org):
    await login_as(client, await org.test_user("agri_editor"))
    page = await client.get(f"/catalog/interop/departments/{org.agri}/xlsx", headers={"accept-language": "zh-CN"})
    assert "导入" in page.text


async def test_a_total_catalog_exports_its_approved_resources_never_a_secret_or_unapproved_one(client, org, public_catalogs):
    staff = await org.user("city_staff")
    wb = load_workbook(io.BytesIO(await spreadsheet.total_workbook(staff, org.province)))
    rows = [dict(zip(HEADERS, row)) for row in wb["信息资源"].iter_rows(min_row=2, values_only=True)]
    assert {row["信息资源名称"] for row in rows} == {"农机购置补贴发放信息", "农产品质量抽检结果", "农村土地承包经营权登记信息",
                                                 "高标准农田建设项目", "市场主体登记信息"}
    subsidy = next(row for row in rows if row["信息资源名称"] == "农机购置补贴发放信息")
    assert (subsidy["信息项名称"], subsidy["是否向社会开放"], subsidy["信息资源分类"]) == ("补贴对象、补贴金额", "无条件开放", "307016001 农村经营管理")
    county = load_workbook(io.BytesIO(await spreadsheet.total_workbook(staff, org.county)))
    assert "市场主体登记信息" not in [row[1] for row in county["信息资源"].iter_rows(min_row=2, values_only=True)]
    await login_as(client, await org.test_user("city_staff"))
    download = await client.get(f"/catalog/interop/units/{org.city}/total.xlsx")
    assert download.status_code == 200 and "filename*=UTF-8''" in download.headers["content-disposition"]
    assert "动物防疫秘密档案" not in [row[1] for row in load_workbook(io.BytesIO(download.content))["信息资源"].iter_rows(values_only=True)]
    assert (await client.get("/catalog/interop/units/999999/total.xlsx")).status_code == 404
