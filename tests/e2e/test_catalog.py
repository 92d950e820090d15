"""The data catalog in Chromium (CAT-1, CAT-2, CAT-3): a county department's editor compiles a
resource (without JavaScript: the form, its refusals and "more rows" work as plain HTML) and a
secret one, files the catalog; the county's big-data bureau reviews it resource by resource and
approves it; a city officer finds the resource in the city's total catalog by a data item, and
never the secret one.

Runs on its own server (``catalog_server``): fengyu (editor, 黄河县农业农村局), dengli (reviewer,
黄河县大数据局), caijun (reviewer, 济南市大数据局) and yuanfang (山东省大数据局, who keeps the
classification trees) log in there once each.
"""

from __future__ import annotations

import re

import pyotp
import pytest

from plugins.catalog.resources import uscc_check_character

PROVIDER_CODE = "11371200MB0123456"[:17] + uscc_check_character("11371200MB0123456"[:17])


@pytest.fixture(scope="module")
def catalog_server(start_live_server):
    return start_live_server("catalog")


def _submit(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


def _log_in(browser, server, account, **options):
    context = browser.new_context(base_url=server.url, locale="en-US", **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", account["username"])
    page.fill("#password", account["password"])
    _submit(page, page.locator("main form button[type=submit]"))
    page.fill("#code", pyotp.TOTP(account["totp_secret"]).now())
    _submit(page, page.locator("main form button[type=submit]"))
    assert "/login" not in page.url, page.url
    return context, page


def _fill_resource(page, name: str, secrecy: str = "internal") -> None:
    page.fill("#name", name)
    page.select_option("#classification_id", label="\u3000\u3000\u3000307016001 农村经营管理")
    page.fill("#provider_code", PROVIDER_CODE)
    page.fill("#abstract", f"{name}的摘要。")
    page.select_option("#secrecy", secrecy)
    page.select_option("#share_type", "conditional")
    page.select_option("#update_cycle", "monthly")
    page.fill("#item-0-name", "承包方名称")
    page.fill("#item-0-length", "100")


@pytest.fixture(scope="module")
def pages(browser, catalog_server, demo_accounts):
    """The three logged-in pages, kept for the module (a TOTP code is good once per 30 s)."""
    contexts, pages = [], {}
    for username, options in (("fengyu", {"java_script_enabled": False}), ("dengli", {}), ("caijun", {}), ("yuanfang", {})):
        context, pages[username] = _log_in(browser, catalog_server, demo_accounts[username], **options)
        contexts.append(context)
    yield pages
    for context in contexts:
        context.close()


def test_compile_file_review_and_find_in_the_city_total_catalog(pages, e2e):
    assert {"fengyu", "dengli", "caijun", "yuanfang"} <= set(e2e.ACCOUNT_OF.values())
    # The county editor, without JavaScript.
    editor = pages["fengyu"]
    editor.goto("/catalog")
    _submit(editor, editor.get_by_role("link", name="My department's catalog").first)
    assert "Catalog of 黄河县人民政府农业农村局" in editor.inner_text("h1")
    _submit(editor, editor.get_by_role("link", name="Add a resource"))
    _fill_resource(editor, "农村土地承包经营权登记信息")
    _submit(editor, editor.get_by_role("button", name="Save").last)
    # Conditional sharing without conditions: refused, the field says why, nothing typed is lost.
    assert "Conditional sharing needs its conditions of use" in editor.inner_text("#share_conditions-error")
    assert editor.input_value("#name") == "农村土地承包经营权登记信息"
    assert editor.input_value("#item-0-name") == "承包方名称"
    editor.fill("#share_conditions", "仅用于农业补贴核验")
    _submit(editor, editor.get_by_role("button", name="More rows"))
    assert editor.locator("input[name=item-5-name]").count() == 1
    editor.fill("#item-1-name", "地块编码")
    editor.fill("#item-1-length", "19")
    _submit(editor, editor.get_by_role("button", name="Save").last)
    assert "307016001/000001" in editor.inner_text("main table")
    _submit(editor, editor.get_by_role("link", name="Add a resource"))
    _fill_resource(editor, "涉密的地块核查档案", secrecy="secret")
    editor.fill("#share_conditions", "仅限涉密网使用")
    _submit(editor, editor.get_by_role("button", name="Save").last)
    assert "307016001/000002" in editor.inner_text("main table")
    editor.fill("#note", "首次备案，请审核。")
    _submit(editor, editor.get_by_role("button", name="File the catalog (备案)"))
    assert "Under review" in editor.inner_text("main")
    filing_path = re.sub(r"^https?://[^/]+", "", editor.url)

    # The county's big-data bureau: a verdict on one resource (htmx), then the decision.
    reviewer = pages["dengli"]
    reviewer.goto("/catalog/filings")
    _submit(reviewer, reviewer.get_by_role("link", name="农业农村局"))
    assert reviewer.url.endswith(filing_path)
    assert "首次备案，请审核。" in reviewer.inner_text("main")
    item = reviewer.locator("section.catalog-item", has_text="农村土地承包经营权登记信息")
    item.get_by_label("Agreed").check()
    item.get_by_label("Opinion on this resource").fill("描述规范")
    item.get_by_role("button", name="Save the verdict").click()
    reviewer.locator("section.catalog-item", has_text="农村土地承包经营权登记信息").locator(".catalog-opinion").wait_for()
    assert "描述规范" in reviewer.locator("section.catalog-item", has_text="农村土地承包经营权登记信息").inner_text()
    reviewer.fill("#opinion", "同意备案。")
    _submit(reviewer, reviewer.get_by_role("button", name="Approve the filing"))
    assert "Approved" in reviewer.inner_text("dl.facts")

    # A city officer finds it in the city's total catalog, by a data item; never the secret one.
    reader = pages["caijun"]
    reader.goto("/catalog")
    _submit(reader, reader.get_by_role("link", name="济南市人民政府"))
    assert "Total catalog of 济南市人民政府" in reader.inner_text("h1")
    assert "农村土地承包经营权登记信息" in reader.inner_text("#results")
    assert "涉密的地块核查档案" not in reader.inner_text("main")
    reader.fill("input[name=q]", "地块编码")
    reader.get_by_role("button", name="Search").click()
    reader.wait_for_url(re.compile(r"q=%E5%9C%B0"))
    assert "1 resources found." in reader.inner_text("#results")
    _submit(reader, reader.get_by_role("link", name="农村土地承包经营权登记信息"))
    assert "仅用于农业补贴核验" in reader.inner_text("main") and "地块编码" in reader.inner_text("main")
    reader.goto("/catalog/total/1?q=涉密")
    assert "0 resources found." in reader.inner_text("#results")


def test_versions_are_compared_and_the_trees_shown(pages):
    """The editor renames the resource and files again; the bureau compares the two versions."""
    editor, reviewer = pages["fengyu"], pages["dengli"]
    editor.goto("/catalog/mine")
    _submit(editor, editor.get_by_role("link", name="农村土地承包经营权登记信息"))
    editor.fill("#name", "农村土地承包经营权确权登记信息")
    editor.fill("#item-2-name", "承包面积")
    editor.select_option("#item-2-data_type", "decimal")
    _submit(editor, editor.get_by_role("button", name="Save").last)
    assert "Draft" in editor.inner_text("main table")
    _submit(editor, editor.get_by_role("button", name="File the catalog (备案)"))
    reviewer.goto("/catalog/filings")
    _submit(reviewer, reviewer.get_by_role("link", name="农业农村局"))
    _submit(reviewer, reviewer.get_by_role("link", name="Compare with the approved version 1"))
    assert "Version 1 and version 2 compared" in reviewer.inner_text("h1")
    changes = reviewer.inner_text("main")
    assert "农村土地承包经营权登记信息" in changes and "农村土地承包经营权确权登记信息" in changes and "承包面积" in changes
    _submit(reviewer, reviewer.get_by_role("link", name="All versions"))
    assert "Version 2" in reviewer.inner_text("main table") and "Version 1" in reviewer.inner_text("main table")
    _submit(reviewer, reviewer.get_by_role("button", name="Compare the two chosen versions"))
    assert "Version 1 and version 2 compared" in reviewer.inner_text("h1")
    _submit(reviewer, reviewer.get_by_role("link", name="Classification trees"))
    assert "人口基础信息资源" in reviewer.inner_text("main") and "307016001" in reviewer.inner_text("main")


def test_the_province_bureau_keeps_the_trees_and_the_home_page_shows_the_catalog(pages):
    bureau, reviewer = pages["yuanfang"], pages["dengli"]
    bureau.goto("/catalog/classifications")
    bureau.select_option("select[name=parent_id]", label="\u3000\u3000307016 农业农村")
    bureau.fill("input[name=segment]", "x")
    bureau.fill("input[name=name]", "农田建设管理")
    _submit(bureau, bureau.get_by_role("button", name="Add", exact=True))
    assert "A 细目 adds one to six digits." in bureau.inner_text("main")
    assert bureau.input_value("input[name=name]") == "农田建设管理"
    bureau.fill("input[name=segment]", "004")
    _submit(bureau, bureau.get_by_role("button", name="Add", exact=True))
    assert "307016004" in bureau.inner_text("main table")
    _submit(bureau, bureau.get_by_role("link", name="Change 307016004"))
    bureau.fill("#name", "农田建设管理信息")
    _submit(bureau, bureau.get_by_role("button", name="Rename"))
    assert "农田建设管理信息" in bureau.inner_text("main table")
    reviewer.goto("/catalog/classifications")
    assert "农田建设管理信息" in reviewer.inner_text("main table")
    assert reviewer.get_by_role("link", name="Change 307016004").count() == 0
    reviewer.goto("/")
    assert "version 2 to review" in reviewer.inner_text("main")
