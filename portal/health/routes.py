"""Administration pages of the health self-check report (MAIL-10): its cycle and recipients,
"run now", the last reports and each report in full. Administrators only."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath

from portal.accounts.services import ValidationError
from portal.admin.routes import ADMIN, check_id, flash, found, pop_flash
from portal.health import report as reports
from portal.i18n import get_locale
from portal.i18n import gettext as _
from portal.jobs.schedule import TIMEZONE
from portal.web import client_ip, current_user, redirect, render


async def _page(request: Request, values: dict, errors: dict, status_code: int = 200) -> Response:
    settings = await reports.report_settings()
    return await render(
        request, "admin/health.html", status_code=status_code, values=values, errors=errors, settings=settings,
        cycles=reports.cycle_labels(), statuses=reports.status_labels(), reports=await reports.recent_reports(),
        preparing=await reports.reports_in_preparation(), flash=pop_flash(request), tz=TIMEZONE,
    )


@get("/admin/health", guards=ADMIN)
async def health_page(request: Request) -> Response:
    settings = await reports.report_settings()
    values = {"cycle": settings["cycle"], "hour": str(settings["hour"]), "recipients": "\n".join(settings["recipients"])}
    return await _page(request, values, {})


@post("/admin/health/settings", guards=ADMIN)
async def health_settings(request: Request) -> Response:
    form = await request.form()
    # Not read_form: its 1000-character cut would silently shorten a long list of recipients.
    values = {name: value if isinstance(value := form.get(name, ""), str) else "" for name in ("cycle", "hour", "recipients")}
    try:
        await reports.save_settings(current_user(request), values["cycle"], values["hour"], values["recipients"],
                                    ip=client_ip(request))
    except ValidationError as error:
        return await _page(request, values, error.errors, status_code=400)
    flash(request, _("The report settings were saved."))
    return redirect("/admin/health")


@post("/admin/health/run", guards=ADMIN)
async def health_run(request: Request) -> Response:
    await reports.request_report(current_user(request), ip=client_ip(request))
    flash(request, _("The report is being prepared; it appears below within a few seconds (reload the page)."))
    return redirect("/admin/health")


@get("/admin/health/reports/{report_id:int}", guards=ADMIN)
async def health_report_page(request: Request, report_id: FromPath[int]) -> Response:
    report = found(await reports.get_report(check_id(report_id)))
    return await render(request, "admin/health_report.html", report=report,
                        checks=reports.localized_checks(report, get_locale()), statuses=reports.status_labels(),
                        tz=TIMEZONE)


HEALTH_ROUTES = [health_page, health_settings, health_run, health_report_page]
