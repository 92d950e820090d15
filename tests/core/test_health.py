"""The health self-check report (MAIL-10): the checks, the report job, its schedule, its pages."""

import asyncio
import email
from datetime import timedelta
from email import policy
from pathlib import Path
from types import ModuleType

import pytest

from portal.accounts.services import UnitForm, create_unit
from portal.accounts.tables import User
from portal.api import HealthCheck
from portal.audit.tables import AuditEntry
from portal.auth.services import Client, record_failure
from portal.health import checks as health
from portal.health.report import KIND, SCHEDULE, collect_checks, report_settings, run_report
from portal.health.tables import HealthReport
from portal.hookspecs import hookimpl
from portal.i18n import locale_context
from portal.jobs import enqueue, now
from portal.jobs.schedule import get_schedule
from portal.jobs.tables import QueuedJob, Schedule
from portal.settings import BUILTIN_PLUGINS, Settings
from portal.testing import login_as, post_form

DOMAIN = "huanghe.gov.example"


def probe_plugin(status="warning", message="probe looked", fails=False) -> ModuleType:
    """A third-party plugin adding a check through register_health_checks."""
    module = ModuleType("probe")

    async def check(portal):
        if fails:
            raise RuntimeError("probe broke")
        return status, message

    @hookimpl
    def register_health_checks(portal):
        return [HealthCheck("probe.thing", check, portal.gettext("Probe"))]

    module.register_health_checks = register_health_checks
    return module


@pytest.fixture
async def town(client):
    return await create_unit(None, UnitForm("黄河县人民政府", "huanghe", "county", None, DOMAIN, "黄河办"))


@pytest.fixture
async def admin(client, make_user, town):
    user = await make_user("root", roles=["admin", "staff"], unit_id=town)
    client.headers["accept-language"] = "en"
    await login_as(client, user)
    return user


# Checks --------------------------------------------------------------------------------------


async def english(check, *args, **kwargs):
    """A check's answer in English (outside a request the locale is the default, zh_CN)."""
    with locale_context("en"):
        return await check(*args, **kwargs)


def test_answers_become_statuses():
    assert health.normalize((True, "fine")) == ("ok", "fine")
    assert health.normalize((False, "down")) == ("fail", "down")
    assert health.normalize(("warning", "soon")) == ("warning", "soon")
    assert health.normalize(("maybe", "?"))[0] == "fail"
    assert health.worst(["ok", "warning", "ok"]) == "warning"
    assert health.worst(["warning", "fail"]) == "fail" and health.worst([]) == "ok"


@pytest.mark.parametrize(("free", "total", "status"), [
    (50 * 1024**3, 100 * 1024**3, "ok"),
    (10 * 1024**3, 100 * 1024**3, "warning"),  # 10 %
    (1 * 1024**3, 4 * 1024**3, "warning"),  # 25 %, but only 1 GB
    (4 * 1024**3, 100 * 1024**3, "fail"),  # 4 %
    (100 * 1024**2, 1 * 1024**3, "fail"),  # 100 MB
])
def test_disk_space_thresholds(free, total, status):
    assert health.disk_status(free, total) == status


async def test_a_raising_or_hanging_check_is_a_failure_not_a_crash(app):
    async def raising(portal):
        raise OSError("disk gone")

    async def hanging(portal):
        await asyncio.sleep(10)

    async def fine(portal):
        return True, "fine"

    results = await english(health.run_checks, app.state.portal, [HealthCheck("a", raising), HealthCheck("b", hanging),
                                                         HealthCheck("c", fine, "C")], timeout=0.2)
    assert [(r.name, r.status) for r in results] == [("a", "fail"), ("b", "fail"), ("c", "ok")]
    assert results[0].message == "OSError: disk gone" and "0 seconds" in results[1].message
    assert results[2].label == "C" and results[0].label == "a"


async def test_the_disk_and_database_checks_report_figures(app):
    with locale_context("en"):
        status, message = await health.disk_check(app.state.portal)
        assert status in ("ok", "warning", "fail") and " free of " in message and "GB" in message
        status, message = await health.database_check(app.state.portal)
        assert status == "ok" and message.startswith("Reachable; answered in ")


async def failures(username: str, count: int, ip: str = "198.51.100.7", user_id=None, result="bad_password") -> None:
    """Failed logins as the login page records them: enough of them lock (MAIL-16)."""
    for _ in range(count):
        await record_failure(Settings(data_dir=Path("."), secret_key="t"), username, Client(ip, "test"), result, user_id)


async def test_locked_usernames_and_addresses_are_counted(app):
    portal = app.state.portal
    assert (await english(health.locked_check, portal))[0] == "ok"
    await failures("mallory", 4, ip="198.51.100.7")
    assert (await english(health.locked_check, portal))[0] == "ok"  # one short of the threshold
    await failures("mallory", 1, ip="203.0.113.9")
    status, message = await english(health.locked_check, portal)
    assert status == "warning" and "1 usernames (mallory)" in message and "0 addresses" in message
    await failures("someone", 5, ip="192.0.2.44")
    status, message = await english(health.locked_check, portal)
    assert "2 usernames (mallory, someone)" in message and "1 addresses (192.0.2.44)" in message


async def test_an_old_lock_is_over(app):
    from portal.auth.tables import LoginLock

    await failures("mallory", 5)
    assert (await english(health.locked_check, app.state.portal))[0] == "warning"
    await LoginLock.update({LoginLock.until: now() - timedelta(minutes=1)}).where(LoginLock.id > 0)
    assert (await english(health.locked_check, app.state.portal))[0] == "ok"


async def test_accounts_under_attack_are_named(app, make_user):
    victim = await make_user("victim")
    await failures("victim", 5, user_id=victim.id)
    await failures("nobody-here", 9)  # not an account: counted as locked, not as an account under attack
    status, message = await english(health.attacked_accounts_check, app.state.portal)
    assert status == "warning" and message.endswith(": victim.") and message.startswith("1 accounts")


async def test_failed_background_jobs_are_a_warning(app):
    assert (await english(health.jobs_check, app.state.portal))[0] == "ok"
    await enqueue("webmail.relay", {})
    await QueuedJob.update({QueuedJob.status: "failed", QueuedJob.finished_at: now()}).where(QueuedJob.id > 0)
    status, message = await english(health.jobs_check, app.state.portal)
    assert status == "warning" and "1 failed" in message


async def test_the_certificate_check_follows_the_installed_certificate(app, pki):
    from portal.tls.certs import inspect
    from portal.tls.store import certificate_check

    portal = app.state.portal
    assert (await certificate_check(portal))[0] == "warning"
    soon = pki.leaf(("soon.example",), valid_for=timedelta(days=20))
    portal.tls.store.install(soon.chain_pem(), soon.key_pem(), inspect(soon.chain_pem(), soon.key_pem()), "root")
    status, message = await certificate_check(portal)
    assert status == "warning" and "soon.example" in message
    later = pki.leaf(("later.example",), valid_for=timedelta(days=300))
    portal.tls.store.install(later.chain_pem(), later.key_pem(), inspect(later.chain_pem(), later.key_pem()), "root")
    assert (await certificate_check(portal))[0] == "ok"


async def test_checks_run_in_each_language_and_plugins_add_theirs(make_app):
    app = make_app(plugins=list(BUILTIN_PLUGINS), plugin_modules={"probe": probe_plugin()})
    checks = {c["name"]: c for c in await collect_checks(app.state.portal)}
    assert list(checks)[:6] == ["database", "disk", "jobs", "certificate", "locked", "accounts"]
    assert {"webmail.queue", "webmail.failures", "webmail.spam", "probe.thing"} <= set(checks)
    assert checks["database"]["label"] == {"zh_CN": "数据库", "en": "Database"}
    assert checks["locked"]["message"]["en"] == "No username or address is locked."
    assert checks["locked"]["message"]["zh_CN"] != checks["locked"]["message"]["en"]
    assert checks["probe.thing"]["status"] == "warning" and checks["probe.thing"]["message"]["en"] == "probe looked"
    # Honest about spam and viruses: nothing scans them.
    assert "not scanned" in checks["webmail.spam"]["message"]["en"]


# The report job ------------------------------------------------------------------------------


async def inbox(user_id: int) -> list[dict]:
    from plugins.webmail.services import ensure_mailbox, folder_id
    from plugins.webmail.tables import Message

    mailbox = await ensure_mailbox(user_id)
    return await Message.select().where((Message.mailbox == mailbox["id"])
                                        & (Message.folder == await folder_id(mailbox["id"], "inbox")))


async def parsed(app, row) -> email.message.EmailMessage:
    from plugins.webmail.blobs import read_blob

    return email.message_from_bytes(await read_blob(app.state.portal, row["blob_sha"]), policy=policy.default)


async def test_the_report_is_mailed_to_each_recipient_in_his_language(app, make_user, town):
    chinese = await make_user("zhang", unit_id=town)
    english = await make_user("smith", unit_id=town)
    await User.update({User.locale: "en"}).where(User.id == english.id)
    recipients = [f"zhang@{DOMAIN}", f"smith@{DOMAIN}", "outsider@example.org", f"ghost@{DOMAIN}"]
    await run_report(app.state.portal, {"cycle": "manual:1", "recipients": recipients})

    report = await HealthReport.select().output(load_json=True).first()
    # At least a warning: no certificate, no spam scanner (a nearly full disk would make it a failure).
    assert report["mailed_at"] is not None and report["status"] in ("warning", "fail")
    assert report["undelivered"] == ["outsider@example.org", f"ghost@{DOMAIN}"]
    [mine] = await inbox(chinese.id)
    [his] = await inbox(english.id)
    assert mine["subject"].startswith("健康自检报告") and his["subject"].startswith("Health self-check report: ")
    message = await parsed(app, his)
    assert message["Auto-Submitted"] == "auto-generated" and message["To"] == f"smith@{DOMAIN}"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "[OK] Database: Reachable" in text and "[Warning] TLS certificate: No certificate" in text
    assert "<table" in html and "Locked usernames and addresses" in html
    assert "数据库" in (await parsed(app, mine)).get_body(("plain",)).get_content()


async def test_a_retried_job_neither_repeats_nor_remails_the_report(app, make_user, town):
    user = await make_user("zhang", unit_id=town)
    payload = {"cycle": "weekly:2026-W19", "recipients": [f"zhang@{DOMAIN}"]}
    await run_report(app.state.portal, payload)
    await run_report(app.state.portal, payload)
    assert await HealthReport.count() == 1 and len(await inbox(user.id)) == 1


async def test_a_report_stored_but_not_mailed_is_mailed_on_retry(app, make_user, town):
    """The job died between storing and mailing: the retry mails the stored report."""
    user = await make_user("zhang", unit_id=town)
    await HealthReport.insert(HealthReport(cycle="daily:2026-05-04", status="ok", recipients=[f"zhang@{DOMAIN}"],
                                           checks=[{"name": "database", "status": "ok", "label": {"en": "Database"},
                                                    "message": {"en": "fine"}}]))
    await run_report(app.state.portal, {"cycle": "daily:2026-05-04", "recipients": [f"zhang@{DOMAIN}"]})
    [row] = await inbox(user.id)
    assert "Database: fine" in (await parsed(app, row)).get_body(("plain",)).get_content()


async def test_a_failing_plugin_check_fails_the_report_but_not_the_job(make_app):
    app = make_app(plugins=list(BUILTIN_PLUGINS), plugin_modules={"probe": probe_plugin(fails=True)})
    await run_report(app.state.portal, {"cycle": "manual:x", "recipients": []})
    report = await HealthReport.select().output(load_json=True).first()
    probe = next(c for c in report["checks"] if c["name"] == "probe.thing")
    assert report["status"] == "fail" and probe["message"]["en"] == "RuntimeError: probe broke"
    assert report["mailed_at"] is None  # nobody to mail


async def test_a_report_asked_for_by_a_deleted_account_is_still_made(app, make_user):
    gone = await make_user("gone")
    await User.delete().where(User.id == gone.id)
    await run_report(app.state.portal, {"cycle": "manual:gone", "recipients": [], "requested_by": gone.id})
    assert (await HealthReport.select().first())["requested_by"] is None


async def test_without_a_mail_plugin_every_recipient_is_undelivered(make_app):
    app = make_app(plugins=[])
    await run_report(app.state.portal, {"cycle": "manual:y", "recipients": ["root@example.org"]})
    report = await HealthReport.select().output(load_json=True).first()
    assert report["undelivered"] == ["root@example.org"]


async def test_the_schedule_queues_one_report_per_cycle_which_the_worker_mails(app, make_user, town, admin, client):
    user = await make_user("zhang", unit_id=town)
    response = await post_form(client, "/admin/health/settings",
                               {"cycle": "daily", "hour": "7", "recipients": f"zhang@{DOMAIN}"})
    assert response.status_code == 303
    await Schedule.update({Schedule.due_at: now() - timedelta(minutes=1)}).where(Schedule.name == SCHEDULE)
    worker = app.state.portal.worker
    await worker.queue_schedules()
    await worker.run_until_idle()
    worker._next_schedule_poll = 0.0
    await worker.queue_schedules()  # the same cycle: nothing more
    await worker.run_until_idle()
    [report] = await HealthReport.select().output(load_json=True)
    assert report["cycle"].startswith("daily:") and report["requested_by"] is None
    assert len(await inbox(user.id)) == 1


# The pages -----------------------------------------------------------------------------------


async def test_the_page_shows_the_settings_form_run_now_and_no_report_yet(client, admin):
    page = await client.get("/admin/health")
    assert page.status_code == 200
    assert 'action="/admin/health/settings"' in page.text and 'action="/admin/health/run"' in page.text
    assert "No report yet." in page.text
    assert 'href="/admin/health" aria-current="page"' in page.text


async def test_settings_are_saved_validated_and_audited(client, admin):
    response = await post_form(client, "/admin/health/settings",
                               {"cycle": "weekly", "hour": "8", "recipients": f"Root@{DOMAIN}\n\nops@{DOMAIN}, root@{DOMAIN}"})
    assert response.status_code == 303
    settings = await report_settings()
    assert settings["cycle"] == "weekly" and settings["hour"] == 8
    assert settings["recipients"] == [f"root@{DOMAIN}", f"ops@{DOMAIN}"]
    assert (await get_schedule(SCHEDULE))["kind"] == KIND
    page = await client.get("/admin/health")
    assert f"root@{DOMAIN}\nops@{DOMAIN}</textarea>" in page.text and 'id="next-run"' in page.text
    assert await AuditEntry.count().where(AuditEntry.action == "core.health.settings") == 1


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"cycle": "weekly", "hour": "7", "recipients": "not-an-address"}, "recipients", "These are not mail addresses: not-an-address"),
    ({"cycle": "weekly", "hour": "7", "recipients": "a@b.example <script>"}, "recipients", "&lt;script&gt;"),
    ({"cycle": "weekly", "hour": "7", "recipients": ""}, "recipients", "Enter at least one mailbox"),
    ({"cycle": "weekly", "hour": "24", "recipients": "a@b.example"}, "hour", "Enter an hour from 0 to 23."),
    ({"cycle": "hourly", "hour": "7", "recipients": "a@b.example"}, "cycle", "Choose from the list."),
    ({"cycle": "", "hour": "7", "recipients": "\n".join(f"u{n}@b.example" for n in range(21))}, "recipients", "at most 20"),
    ({"cycle": "", "hour": "7", "recipients": "a@b.example " * 1000}, "recipients", "at most 20"),
])
async def test_bad_settings_give_400_keep_the_input_and_save_nothing(client, admin, form, field, message):
    response = await post_form(client, "/admin/health/settings", form)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.text and message in response.text
    assert "<script>" not in response.text
    assert await get_schedule(SCHEDULE) is None


async def test_no_periodic_report_needs_no_recipient(client, admin):
    response = await post_form(client, "/admin/health/settings", {"cycle": "", "hour": "7", "recipients": ""})
    assert response.status_code == 303
    assert (await get_schedule(SCHEDULE))["due_at"] is None


async def test_run_now_queues_a_report_that_the_page_then_lists(client, admin, app):
    await post_form(client, "/admin/health/settings", {"cycle": "", "hour": "7", "recipients": f"root@{DOMAIN}"})
    response = await post_form(client, "/admin/health/run")
    assert response.status_code == 303
    page = await client.get("/admin/health")
    assert 'id="preparing"' in page.text and "being prepared" in page.text
    assert await app.state.portal.worker.run_until_idle() == 1
    page = await client.get("/admin/health")
    assert 'id="preparing"' not in page.text and "Run now by root" in page.text and f"root@{DOMAIN}" in page.text
    report = await HealthReport.select().first()
    assert report["requested_by"] == admin.id
    detail = await client.get(f"/admin/health/reports/{report['id']}")
    assert detail.status_code == 200
    assert 'id="check-database"' in detail.text and 'id="check-webmail.queue"' in detail.text
    assert "Reachable; answered in" in detail.text
    assert await AuditEntry.count().where(AuditEntry.action == "core.health.run") == 1
    assert len(await inbox(admin.id)) == 1


async def test_a_report_page_in_chinese(client, admin, app):
    await run_report(app.state.portal, {"cycle": "manual:z", "recipients": []})
    report = await HealthReport.select().first()
    client.headers["accept-language"] = "zh-CN"
    await User.update({User.locale: "zh_CN"}).where(User.id == admin.id)
    page = await client.get(f"/admin/health/reports/{report['id']}")
    assert "数据库" in page.text and "健康自检报告" in page.text


async def test_unknown_report_is_404(client, admin):
    assert (await client.get("/admin/health/reports/999999")).status_code == 404
    assert (await client.get("/admin/health/reports/99999999999")).status_code == 404


async def test_staff_and_visitors_cannot_use_the_pages(client, make_user):
    assert (await client.get("/admin/health")).status_code == 303
    staff = await make_user("clerk")
    await login_as(client, staff)
    for method, url in (("get", "/admin/health"), ("post", "/admin/health/run"), ("post", "/admin/health/settings"),
                        ("get", "/admin/health/reports/1")):
        response = await (client.get(url) if method == "get" else post_form(client, url, {"cycle": "daily"}))
        assert response.status_code == 403, url
    assert await QueuedJob.count() == 0


async def test_run_now_without_the_csrf_token_is_refused(client, admin):
    assert (await client.post("/admin/health/run")).status_code == 403
    assert await QueuedJob.count() == 0


# /health for monitors ------------------------------------------------------------------------


async def test_a_warning_keeps_health_200_and_a_failure_makes_it_503(make_app):
    from litestar.testing import AsyncTestClient

    for module, status_code in ((probe_plugin("warning"), 200), (probe_plugin(fails=True), 503)):
        app = make_app(plugins=["webmail"], plugin_modules={"probe": module})
        async with AsyncTestClient(app) as client:
            response = await client.get("/health")
        assert response.status_code == status_code
        assert response.json()["checks"]["probe.thing"]["status"] == ("warning" if status_code == 200 else "fail")
        assert response.json()["checks"]["database"] == {"ok": True, "status": "ok", "message": response.json()["checks"]["database"]["message"]}
