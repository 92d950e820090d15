"""Official documents in Chromium (DOC-1, DOC-3 … DOC-10, DOC-13): zhangwei drafts a 请示 and every
actor of the upward flow logs in and takes it to sending; a countersign; a recall; an incoming 通知
with an attachment through every leader to a department and back, published on the home page.

Runs on its own server (``edoc_server``), so every demo account's TOTP code is free there; each
account logs in once for the module and keeps its page.
"""

from __future__ import annotations

import pyotp
import pytest

ACTORS = ("zhangwei", "lina", "wangfang", "liuyang", "zhaolei", "sunli", "chenjing")


@pytest.fixture(scope="module")
def edoc_server(start_live_server):
    return start_live_server("edoc")


def _submit(page, locator) -> None:
    with page.expect_navigation():
        locator.click()


@pytest.fixture(scope="module")
def pages(browser, edoc_server, demo_accounts):
    """A logged-in page per actor, kept for the whole module."""
    contexts, pages = [], {}
    for username in ACTORS:
        account = demo_accounts[username]
        context = browser.new_context(base_url=edoc_server.url, locale="en-US")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", account["password"])
        _submit(page, page.locator("main form button[type=submit]"))
        page.fill("#code", pyotp.TOTP(account["totp_secret"]).now())
        _submit(page, page.locator("main form button[type=submit]"))
        assert "/login" not in page.url, page.url
        pages[username] = page
    yield pages
    for context in contexts:
        context.close()


def draft(page, title: str) -> str:
    """zhangwei drafts an upward 请示 and submits it; returns the document's path."""
    page.goto("/edoc/new")
    page.select_option("#doc_type", "请示")
    page.select_option("#direction", "upward")
    page.fill("#title", title)
    page.fill("#main_recipients", "济南市人民政府")
    page.fill("#body", "为保障春耕生产，拟申请补贴资金。\n\n妥否，请批示。")
    _submit(page, page.locator("form.edoc-draft button[type=submit]"))
    assert "The department head review goes to 李娜, head of 农业农村局." in page.inner_text("main")
    path = page.url.removeprefix(page.url.split("/edoc/")[0])
    _submit(page, page.get_by_role("button", name="Submit"))
    return path


def act(page, path: str, opinion: str, button: str) -> None:
    """Open the document, save an opinion (DOC-4), then press the action's button."""
    page.goto(path)
    page.fill("#opinion", opinion)
    _submit(page, page.get_by_role("button", name="Save opinion"))
    assert "Opinion saved." in page.inner_text("main")
    _submit(page, page.get_by_role("button", name=button))


def test_an_upward_request_goes_through_every_step_to_sending(pages):
    """DOC-1: 拟稿 → 部门负责人核稿 → 办公室负责人把关 → 主管局领导审阅 → 局长签发 → 文印室 → 秘书发送."""
    path = draft(pages["zhangwei"], "关于申请春耕补贴资金的请示")
    lina = pages["lina"]
    lina.goto("/edoc")
    assert "关于申请春耕补贴资金的请示" in lina.inner_text("main")
    act(lina, path, "核稿无误，同意。", "Approve and pass on")
    wangfang = pages["wangfang"]
    wangfang.goto("/edoc")
    assert "Role inbox" in wangfang.inner_text("main")  # 办公室负责人 is a role inbox (DOC-9)
    act(wangfang, path, "把关通过。", "Approve and pass on")
    act(pages["liuyang"], path, "审阅同意。", "Approve and pass on")
    act(pages["zhaolei"], path, "同意，签发。", "Approve and pass on")
    act(pages["sunli"], path, "已登记编号排版。", "Register the number")
    assert "黄河办〔" in pages["sunli"].inner_text(".edoc-meta")
    act(pages["chenjing"], path, "审核无误，发送。", "Check and send")
    chenjing = pages["chenjing"]
    assert "Sent" in chenjing.inner_text(".edoc-status")
    history = chenjing.inner_text(".edoc-history")
    for name, opinion in [("李娜", "核稿无误，同意。"), ("王芳", "把关通过。"), ("刘洋", "审阅同意。"), ("赵磊", "同意，签发。"),
                          ("孙丽", "已登记编号排版。"), ("陈静", "审核无误，发送。")]:
        assert name in history and opinion in history
    chenjing.goto("/edoc/done")
    assert "关于申请春耕补贴资金的请示" in chenjing.inner_text("main")
    zhangwei = pages["zhangwei"]
    zhangwei.goto(path + "/print")
    assert "审核无误，发送。" in zhangwei.inner_text(".edoc-print")


def test_a_countersign_goes_to_another_leader_then_the_secretary_and_the_office_head(pages):
    """DOC-6: 转交相关领导 → 送秘书 → 办公室负责人 → 局长签发."""
    path = draft(pages["zhangwei"], "关于会签事项的请示")
    for who, opinion in [("lina", "同意。"), ("wangfang", "同意。")]:
        act(pages[who], path, opinion, "Approve and pass on")
    liuyang = pages["liuyang"]
    liuyang.goto(path)
    liuyang.fill("#opinion", "同意，请赵局长会签。")
    _submit(liuyang, liuyang.get_by_role("button", name="Save opinion"))
    liuyang.select_option("#countersigner", label="赵磊")
    _submit(liuyang, liuyang.get_by_role("button", name="Pass to another leader (会签)"))
    assert "With 赵磊" in liuyang.inner_text(".edoc-holder")
    act(pages["zhaolei"], path, "会签同意。", "Send to the secretary")
    act(pages["chenjing"], path, "转办公室负责人。", "Approve and pass on")
    wangfang = pages["wangfang"]
    act(wangfang, path, "会签完毕，送局长签发。", "Approve and pass on")
    assert "局长签发" in wangfang.inner_text(".edoc-status")


def test_a_document_is_recalled_before_it_is_opened_and_not_after(pages):
    """DOC-7."""
    zhangwei = pages["zhangwei"]
    path = draft(zhangwei, "发错的请示")
    _submit(zhangwei, zhangwei.get_by_role("button", name="Recall"))
    assert zhangwei.get_by_role("button", name="Submit").is_visible()
    _submit(zhangwei, zhangwei.get_by_role("button", name="Submit"))
    pages["lina"].goto(path)  # lina opens it
    zhangwei.goto(path)
    assert zhangwei.get_by_role("button", name="Recall").count() == 0
    assert "With 李娜" in zhangwei.inner_text(".edoc-holder")


def test_an_incoming_notice_goes_through_every_leader_to_a_department_and_is_published(pages, tmp_path):
    """DOC-8: 秘书登记 → 办公室主任拟办 → 秘书 → every leader → 秘书 → 办理部门批办 → 秘书 → 结束; with its
    attachment (DOC-5), timed at the department (DOC-10), then published on the home page (DOC-13)."""
    title = "关于开展安全生产大检查的通知"
    chenjing = pages["chenjing"]
    chenjing.goto("/edoc/new?incoming=1")
    chenjing.select_option("#doc_type", "通知")
    chenjing.fill("#source", "济南市人民政府")
    chenjing.fill("#title", title)
    chenjing.fill("#body", "各县区人民政府：\n\n请于本月底前完成安全生产大检查。")
    chenjing.check("input[name=has_attachments]")
    _submit(chenjing, chenjing.locator("form.edoc-draft button[type=submit]"))
    path = chenjing.url.removeprefix(chenjing.url.split("/edoc/")[0])
    checklist = tmp_path / "检查表.xlsx"
    checklist.write_bytes(b"checklist")
    chenjing.set_input_files("#attachment-file", str(checklist))
    _submit(chenjing, chenjing.get_by_role("button", name="Upload"))
    chenjing.goto(path)
    assert "检查表.xlsx" in chenjing.inner_text(".edoc-attachments")
    _submit(chenjing, chenjing.get_by_role("button", name="Submit"))

    act(pages["wangfang"], path, "拟请各位领导阅示，农业农村局办理。", "Approve and pass on")
    act(chenjing, path, "呈领导阅。", "Approve and pass on")
    act(pages["liuyang"], path, "已阅。", "Approve and pass on")
    assert "检查表.xlsx" in pages["liuyang"].inner_text(".edoc-attachments")  # every reader sees the attachment
    act(pages["zhaolei"], path, "已阅，请农业农村局办理。", "Approve and pass on")
    chenjing.goto(path)
    chenjing.fill("#opinion", "请农业农村局办理。")
    _submit(chenjing, chenjing.get_by_role("button", name="Save opinion"))
    chenjing.select_option("#department", label="农业农村局")
    _submit(chenjing, chenjing.get_by_role("button", name="Approve and pass on"))

    lina = pages["lina"]
    lina.goto("/edoc")
    assert title in lina.inner_text("main")
    act(lina, path, "批办：请张伟落实。", "Approve and pass on")
    chenjing.goto("/edoc/timeliness")
    assert "农业农村局" in chenjing.inner_text("table.timeliness")
    act(chenjing, path, "办结。", "Approve and pass on")
    assert "Finished" in chenjing.inner_text(".edoc-status")
    history = chenjing.inner_text(".edoc-history")
    for name in ("王芳", "刘洋", "赵磊", "李娜", "批办：请张伟落实。"):
        assert name in history

    _submit(chenjing, chenjing.get_by_role("button", name="Publish on the home page"))
    assert "Published on the home page on" in chenjing.inner_text("main")
    zhangwei = pages["zhangwei"]
    zhangwei.goto("/")
    assert title in zhangwei.inner_text("main")
