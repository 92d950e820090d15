"""End to end, in Chromium (CAT-6): a catalog editor downloads his unit's total catalog, uploads a
wrong workbook and sees every fault with nothing imported, uploads a right one and sees the
resources, downloads the export; anyone
without login reads the open catalog, a resource's page, its DCAT and CKAN forms.

On its own server, where catalog_interop_seed.py files and approves a catalog of 黄河县农业农村局 through
the services; fengyu (the demo's editor of that department) logs in there."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest
from openpyxl import Workbook, load_workbook

pytestmark = pytest.mark.e2e

HEADERS = ["信息资源分类", "信息资源名称", "信息资源代码", "信息资源提供方", "提供方代码", "信息资源摘要", "信息资源格式", "格式说明",
           "信息项名称", "共享类型", "共享条件", "共享方式", "是否向社会开放", "开放条件", "更新周期", "发布日期", "关联资源代码"]
USCC = "11371200MB012345X"


@pytest.fixture(scope="module")
def interop(start_live_server):
    server = start_live_server("catalog-interop")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update(PORTAL_DATA_DIR=str(server.data_dir), PORTAL_SECRET_KEY="e2e-secret-key-not-for-production")
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("catalog_interop_seed.py"))], env=env, check=True,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=server.data_dir.parent)
    return server, json.loads(done.stdout.strip().splitlines()[-1])


def uscc() -> str:
    from plugins.catalog.resources import uscc_check_character

    return USCC[:17] + uscc_check_character(USCC[:17])


def workbook(path: Path, rows: list[dict]) -> Path:
    wb = Workbook()
    sheet = wb.active
    sheet.title = "信息资源"
    sheet.append(HEADERS)
    for row in rows:
        sheet.append([row.get(header, "") for header in HEADERS])
    wb.save(path)
    return path


def resource(name: str, **changes) -> dict:
    row = {"信息资源分类": "307016001", "信息资源名称": name, "信息资源提供方": "黄河县农业农村局", "提供方代码": uscc(),
           "信息资源摘要": f"{name}的记录", "信息资源格式": "电子表格", "格式说明": "xlsx", "信息项名称": "姓名、地址",
           "共享类型": "无条件共享", "共享方式": "文件下载", "是否向社会开放": "不予开放", "更新周期": "每年", "发布日期": "2026-01-05"}
    row.update(changes)
    return row


def log_in(page, e2e, account: dict) -> None:
    """Password and TOTP code (the account is used once, on this module's own server)."""
    e2e.enter_password(page, account["username"], account["password"])
    assert page.url.endswith("/login/verify"), page.url
    page.fill("#code", pyotp.TOTP(account["totp_secret"]).now())
    e2e.submit(page)


def working_names(page) -> list[str]:
    return page.locator("#working-catalog tbody tr td:nth-child(2)").all_inner_texts()


def test_a_wrong_workbook_shows_its_faults_a_right_one_imports_and_the_export_downloads(new_page, interop, e2e, tmp_path,
                                                                                        demo_accounts):
    server, seeded = interop
    page = new_page(server)
    log_in(page, e2e, demo_accounts[e2e.ACCOUNT_OF["catalog_xlsx"]])
    page.goto("/catalog/mine")
    with page.expect_navigation():
        page.get_by_role("link", name="Catalog exchange").click()
    with page.expect_download() as total:
        page.click("#total-export")
    approved = load_workbook(io.BytesIO(Path(total.value.path()).read_bytes()))["信息资源"]
    assert sorted(row[1] for row in approved.iter_rows(min_row=2, values_only=True)) == sorted([seeded["open"], seeded["internal"]])
    with page.expect_navigation():
        page.locator("tr", has_text="农业农村局").get_by_role("link", name="Export and import").click()
    before = working_names(page)
    assert sorted(before) == sorted([seeded["open"], seeded["internal"]])

    wrong = workbook(tmp_path / "wrong.xlsx", [resource("农机补贴申请信息"), resource("", 共享类型="随便共享"),
                                               resource("耕地地力调查", 提供方代码="12345")])
    page.set_input_files("#import-form input[type=file]", str(wrong))
    e2e.submit(page, "#import-form")
    assert "Nothing was imported" in page.locator("#import-errors .alert").inner_text()
    faults = [row.locator("td").all_inner_texts() for row in page.locator("#import-errors tbody tr").all()]
    cells = {(sheet_row, column) for _sheet, sheet_row, column, _message in faults}
    assert {("3", "信息资源名称"), ("3", "共享类型"), ("4", "提供方代码")} <= cells
    assert sorted(working_names(page)) == sorted(before)

    right = workbook(tmp_path / "right.xlsx", [resource("农机补贴申请信息"), resource("耕地地力调查")])
    page.set_input_files("#import-form input[type=file]", str(right))
    e2e.submit(page, "#import-form")
    assert "Imported: 2 new, 0 changed, 0 unchanged resources." in page.locator("#import-done").inner_text()
    assert sorted(working_names(page)) == sorted(before + ["农机补贴申请信息", "耕地地力调查"])

    page.goto("/catalog/mine")
    mine = page.locator("main").inner_text()
    assert "农机补贴申请信息" in mine and "耕地地力调查" in mine
    page.go_back()
    with page.expect_download() as download:
        page.click("#export-link")
    assert download.value.suggested_filename.endswith(".xlsx")
    exported = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    names = [row[1] for row in exported["信息资源"].iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted(before + ["农机补贴申请信息", "耕地地力调查"])


def test_without_login_the_open_catalog_shows_only_open_resources_with_dcat_and_ckan(new_page, interop):
    server, seeded = interop
    page = new_page(server)
    page.goto("/catalog/open/huanghe")
    table = page.locator("#open-resources").inner_text()
    assert seeded["open"] in table and seeded["internal"] not in table
    with page.expect_navigation():
        page.get_by_role("link", name=seeded["open"]).click()
    assert page.locator("#dataset h1").inner_text() == seeded["open"]
    assert "Open to the public" in page.locator("#dataset").inner_text()
    with page.expect_navigation():
        page.get_by_role("link", name="As CKAN JSON").click()
    package = json.loads(page.locator("body").inner_text())
    assert package["success"] is True and package["result"]["title"] == seeded["open"]
    page.goto("/catalog/open/huanghe")
    turtle = page.request.get(page.get_by_role("link", name="DCAT-AP (Turtle)").get_attribute("href"))
    assert turtle.ok and seeded["open"] in turtle.text() and seeded["internal"] not in turtle.text()
    search = page.request.get(page.get_by_role("link", name="CKAN-compatible API").get_attribute("href")).json()
    assert [p["title"] for p in search["result"]["results"]] == [seeded["open"]]
