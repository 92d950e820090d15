"""Attachments of documents (DOC-5): the body is never one, a replacement keeps every earlier
version downloadable, names and downloads are safe, and only those allowed see or change them."""

from urllib.parse import quote

import pytest

from plugins.edoc import attachments
from plugins.edoc import services
from plugins.edoc.services import DraftForm
from portal.accounts.services import UnitForm, create_department, create_unit
from portal.api import CurrentUser
from portal.testing import login_as, post_form

TITLE = "关于申请2026年度农田水利资金的请示"


@pytest.fixture
async def org(app):
    unit = await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, "huanghe.gov.example", "黄河办"))
    department = await create_department(None, unit, "农业农村局")
    return unit, department


@pytest.fixture
async def drafter(org, make_user):
    unit, department = org
    return await make_user("drafter", roles=["staff"], unit_id=unit, department_id=department)


@pytest.fixture
async def document(app, org, drafter):
    """A draft with its drafter, at the first step of the upward flow."""
    return await services.create_draft(as_current(drafter, *org), DraftForm("请示", "upward", TITLE), app.state.portal)


def as_current(user, unit=None, department=None) -> CurrentUser:
    return CurrentUser(user.id, user.username, user.username, "", unit, department, frozenset(user.roles), frozenset(), "zh_CN", "")


async def upload(client, url, name, data, *, is_body=False):
    fields = {"is_body": "1"} if is_body else {}
    return await post_form(client, url, fields, files={"file": (name, data, "application/octet-stream")})


@pytest.mark.parametrize("name", ["关于申请2026年度农田水利资金的请示.docx", "《关于申请2026年度农田水利资金的请示》.WPS",
                                  "正文.doc", "请示正文（定稿）.ofd"])
def test_a_word_processor_file_named_like_the_body_is_refused(name):
    assert attachments.body_refusal(name, TITLE, False)


@pytest.mark.parametrize("name", ["资金测算表.xlsx", "项目清单.docx", "关于申请2026年度农田水利资金的请示.jpg"])
def test_other_files_may_be_attachments(name):
    assert attachments.body_refusal(name, TITLE, False) is None


def test_a_file_marked_as_the_body_is_refused_whatever_its_name():
    assert attachments.body_refusal("资金测算表.xlsx", TITLE, True)


@pytest.mark.parametrize(("raw", "safe"), [("../../etc/passwd", "passwd"), ("C:\\Users\\a\\测算表.xlsx", "测算表.xlsx"),
                                           (".htaccess", "htaccess"), ("a\r\nb\x00.txt", "ab.txt"), ("", "attachment")])
def test_filenames_are_made_safe(raw, safe):
    assert attachments.safe_filename(raw) == safe


def test_a_long_filename_keeps_its_extension():
    name = attachments.safe_filename("表" * 500 + ".xlsx")
    assert len(name) == attachments.MAX_FILENAME and name.endswith(".xlsx")


def test_the_download_header_cannot_be_broken_by_the_name():
    header = attachments.content_disposition('测算"表\r\nSet-Cookie: x=1.xlsx')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="') and header.count('"') == 2
    assert "filename*=UTF-8''" + quote("测算表Set-Cookie x=1.xlsx", safe="") in header


async def test_a_replacement_keeps_every_version_and_has_attachments_says_so(app, drafter, document, tmp_path):
    user = as_current(drafter)
    assert not await attachments.has_attachments(document)
    attachment = await attachments.add_attachment(tmp_path, user, document, "资金测算表.xlsx", "application/vnd.ms-excel", b"v1")
    assert await attachments.replace_attachment(tmp_path, user, attachment, "资金测算表(修改).xlsx", "", b"v2") == 2
    assert await attachments.replace_attachment(tmp_path, user, attachment, "资金测算表(定稿).xlsx", "", b"v3") == 3
    assert await attachments.has_attachments(document)
    [listed] = await attachments.attachments_of(document)
    assert [v["version"] for v in listed["versions"]] == [3, 2, 1]
    contents = [(await attachments.version_file(tmp_path, v["id"]))[1].read_bytes() for v in listed["versions"]]
    assert contents == [b"v3", b"v2", b"v1"]


async def test_the_body_cannot_be_uploaded_nor_slipped_in_as_a_new_version(app, drafter, document, tmp_path):
    user = as_current(drafter)
    with pytest.raises(attachments.AttachmentRefused):
        await attachments.add_attachment(tmp_path, user, document, f"{TITLE}.docx", "", b"body")
    attachment = await attachments.add_attachment(tmp_path, user, document, "资金测算表.xlsx", "", b"v1")
    with pytest.raises(attachments.AttachmentRefused):
        await attachments.replace_attachment(tmp_path, user, attachment, "正文.docx", "", b"body")
    [listed] = await attachments.attachments_of(document)
    assert len(listed["versions"]) == 1


async def test_empty_and_oversized_files_are_refused(app, drafter, document, tmp_path, monkeypatch):
    user = as_current(drafter)
    with pytest.raises(attachments.AttachmentRefused):
        await attachments.add_attachment(tmp_path, user, document, "空.txt", "", b"")
    monkeypatch.setattr(attachments, "MAX_BYTES", 10)
    with pytest.raises(attachments.AttachmentRefused):
        await attachments.add_attachment(tmp_path, user, document, "大.txt", "", b"x" * 11)
    assert not await attachments.has_attachments(document)


async def test_upload_replace_and_download_through_the_pages(client, drafter, document):
    await login_as(client, drafter)
    url = f"/edoc/documents/{document}/attachments"
    response = await upload(client, url, "资金测算表.xlsx", b"first")
    assert response.status_code == 303
    [listed] = await attachments.attachments_of(document)
    response = await upload(client, f"/edoc/attachments/{listed['id']}/versions", "资金测算表.xlsx", b"second")
    assert response.status_code == 303
    page = await client.get(url)
    assert page.status_code == 200 and page.text.count("资金测算表.xlsx") >= 3
    [listed] = await attachments.attachments_of(document)
    old, new = listed["versions"][1], listed["versions"][0]
    for version, content in ((old, b"first"), (new, b"second")):
        download = await client.get(f"/edoc/attachments/versions/{version['id']}")
        assert download.status_code == 200 and download.content == content
        assert download.headers["content-type"] == "application/octet-stream"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["x-content-type-options"] == "nosniff"


async def test_the_form_says_why_the_body_is_refused(client, drafter, document):
    await login_as(client, drafter)
    response = await upload(client, f"/edoc/documents/{document}/attachments", "正文.docx", b"body")
    assert response.status_code == 400
    assert "正文" in response.text and 'role="alert"' in response.text
    response = await upload(client, f"/edoc/documents/{document}/attachments", "资金测算表.xlsx", b"x", is_body=True)
    assert response.status_code == 400
    assert not await attachments.has_attachments(document)


async def test_others_can_neither_see_nor_change_the_attachments(client, org, drafter, document, make_user, tmp_path):
    unit, department = org
    attachment = await attachments.add_attachment(tmp_path, as_current(drafter), document, "资金测算表.xlsx", "", b"secret")
    stranger = await make_user("stranger", roles=["staff"], unit_id=unit, department_id=department)
    await login_as(client, stranger)
    assert (await client.get(f"/edoc/documents/{document}/attachments")).status_code == 404
    assert (await upload(client, f"/edoc/documents/{document}/attachments", "x.xlsx", b"x")).status_code == 404
    assert (await upload(client, f"/edoc/attachments/{attachment}/versions", "x.xlsx", b"x")).status_code == 404
    [listed] = await attachments.attachments_of(document)
    assert (await client.get(f"/edoc/attachments/versions/{listed['versions'][0]['id']}")).status_code == 404
    assert len(listed["versions"]) == 1


async def test_the_reviewer_reads_but_the_drafter_no_longer_changes_a_submitted_document(app, client, org, drafter, document,
                                                                                         make_user, tmp_path):
    """The flow's rules: whoever sees the document reads; the drafter edits only while it is with him."""
    unit, department = org
    await attachments.add_attachment(tmp_path, as_current(drafter), document, "资金测算表.xlsx", "", b"x")
    head = await make_user("head", roles=["department_head", "staff"], unit_id=unit, department_id=department)
    task = await services.open_task(document)
    await services.act(as_current(drafter, unit, department), document, task["id"], "approve", app.state.portal)
    await login_as(client, head)
    page = await client.get(f"/edoc/documents/{document}/attachments")
    assert page.status_code == 200 and "资金测算表.xlsx" in page.text and 'type="file"' not in page.text
    assert (await upload(client, f"/edoc/documents/{document}/attachments", "x.xlsx", b"x")).status_code == 403
    client.cookies.clear()
    await login_as(client, drafter)
    assert (await upload(client, f"/edoc/documents/{document}/attachments", "y.xlsx", b"y")).status_code == 403
    assert len(await attachments.attachments_of(document)) == 1


async def test_an_upload_without_the_csrf_token_is_refused(client, drafter, document):
    await login_as(client, drafter)
    response = await client.post(f"/edoc/documents/{document}/attachments", files={"file": ("a.xlsx", b"x")})
    assert response.status_code == 403
    assert not await attachments.has_attachments(document)
