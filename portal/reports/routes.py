"""The report pages of the administration: login records, statistics, account health.

Administrators only (``core.admin``), every page and every action; each table is also a CSV
download (``….csv`` with the same filters). Bad filters re-render the page with the messages
and status 400; actions are POST forms (CSRF-checked by the core) that redirect back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from portal.admin.routes import check_id, flash, pop_flash, query_int
from portal.i18n import gettext as _
from portal.localtime import today
from portal.reports import account_health, logins, statistics
from portal.reports.csv_export import csv_response
from portal.reports.forms import parse_period, parse_whole
from portal.web import client_ip, current_user, permission_required, portal_of, redirect, render

log = logging.getLogger("portal.reports")
ADMIN = [permission_required("core.admin")]
MAX_FILTER = 80


def _values(request: Request, *names: str) -> dict[str, str]:
    return {name: request.query_params.get(name, "").strip()[:MAX_FILTER] for name in names}


def _stamp() -> str:
    return today().strftime("%Y%m%d")


# Login records (MAIL-13) ---------------------------------------------------------------------

LOGIN_FILTERS = ("username", "ip", "since", "until", "outcome")


def _login_query(values: dict[str, str], errors: dict[str, str]) -> logins.LoginQuery:
    username, ip, outcome = logins.validate(values, errors)
    # No dates means every record, not the last 30 days.
    period = parse_period(values, errors) if values["since"] or values["until"] else None
    return logins.LoginQuery(username, ip, period, outcome)


@get("/admin/logins", guards=ADMIN)
async def logins_page(request: Request) -> Response:
    return await _logins_view(request)


async def _logins_view(request: Request) -> Response:
    values = _values(request, *LOGIN_FILTERS)
    errors: dict[str, str] = {}
    query = _login_query(values, errors)
    page = query_int(request, "page")
    records, total = ([], 0) if errors else await logins.search(query, page)
    pages = max(1, -(-total // logins.PAGE_SIZE))
    filters = {k: v for k, v in values.items() if v}

    def page_url(number: int) -> str:
        return "/admin/logins?" + urlencode({**filters, "page": number})

    return await render(
        request, "admin/logins.html", status_code=400 if errors else 200, records=records, total=total,
        values=values, errors=errors, outcomes=logins.outcome_choices(), outcome_text=logins.outcome_text, place_text=logins.place_text,
        extras=logins.extra_columns(), page=page, pages=pages,
        previous_url=page_url(page - 1) if page > 1 else None, next_url=page_url(page + 1) if page < pages else None,
        csv_url="/admin/logins.csv" + ("?" + urlencode(filters) if filters else ""),
    )


@get("/admin/logins.csv", guards=ADMIN)
async def logins_csv(request: Request) -> Response:
    values = _values(request, *LOGIN_FILTERS)
    errors: dict[str, str] = {}
    query = _login_query(values, errors)
    if errors:
        return await _logins_view(request)
    header, rows = await logins.export_rows(query)
    return csv_response(f"login-records-{_stamp()}.csv", header, rows)


# Statistics (MAIL-14) ------------------------------------------------------------------------


async def _chosen_statistic(request: Request):
    available = await statistics.all_statistics(portal_of(request))
    name = request.query_params.get("stat", "")
    if not name:
        return available, available[0]
    chosen = next((s for s in available if s.name == name), None)
    if chosen is None:
        raise NotFoundException()
    return available, chosen


@get("/admin/statistics", guards=ADMIN)
async def statistics_page(request: Request) -> Response:
    return await _statistics_view(request)


async def _statistics_view(request: Request) -> Response:
    available, chosen = await _chosen_statistic(request)
    values = _values(request, "since", "until")
    errors: dict[str, str] = {}
    period = parse_period(values, errors)
    table = svg = failure = None
    if period is not None:
        try:
            table = await chosen.compute(portal_of(request), period)
            svg = statistics.chart_of(table, chosen.label)
        except Exception as error:  # a plugin's broken statistic shows as such, the page stays
            log.exception("statistic %s failed", chosen.name)
            failure = f"{type(error).__name__}: {error}"
    shown = {"since": period.first.isoformat(), "until": period.last.isoformat()} if period else values
    return await render(
        request, "admin/statistics.html", status_code=400 if errors else 200, statistics=available, chosen=chosen,
        values=shown, errors=errors, table=table, chart=svg, failure=failure,
        rows=[[statistics.display_cell(v, c) for v, c in zip(row, table.columns)] for row in table.rows] if table else [],
        csv_url="/admin/statistics.csv?" + urlencode({"stat": chosen.name, **shown}),
        query=urlencode(shown),
    )


@get("/admin/statistics.csv", guards=ADMIN)
async def statistics_csv(request: Request) -> Response:
    _available, chosen = await _chosen_statistic(request)
    errors: dict[str, str] = {}
    period = parse_period(_values(request, "since", "until"), errors)
    if period is None:
        return await _statistics_view(request)
    header, rows = statistics.csv_rows(await chosen.compute(portal_of(request), period))
    name = chosen.name.replace(".", "-")
    return csv_response(f"{name}-{period.first:%Y%m%d}-{period.last:%Y%m%d}.csv", header, rows)


# Account health (MAIL-11) --------------------------------------------------------------------


def _inactive_days(request: Request, errors: dict[str, str]) -> tuple[str, int]:
    raw = request.query_params.get("days", "").strip()[:10]
    return raw, parse_whole(raw, "days", errors, default=account_health.DEFAULT_INACTIVE_DAYS, low=1,
                            high=account_health.MAX_INACTIVE_DAYS)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@get("/admin/account-health", guards=ADMIN)
async def health_page(request: Request) -> Response:
    return await _health_view(request)


async def _health_view(request: Request) -> Response:
    errors: dict[str, str] = {}
    raw, days = _inactive_days(request, errors)
    report = await account_health.health_report(portal_of(request), _now(), days)
    return await render(
        request, "admin/account_health.html", status_code=400 if errors else 200, report=report, days=days,
        days_value=raw if errors else str(days), errors=errors, kinds=account_health.kind_labels(),
        shown=account_health.SHOWN_PER_KIND, flash=pop_flash(request),
        csv_url="/admin/account-health.csv?" + urlencode({"days": days}),
        thresholds={"failures": account_health.ATTACK_FAILURES, "addresses": account_health.MANY_ADDRESSES},
    )


@get("/admin/account-health.csv", guards=ADMIN)
async def health_csv(request: Request) -> Response:
    errors: dict[str, str] = {}
    _raw, days = _inactive_days(request, errors)
    if errors:
        return await _health_view(request)
    header, rows = account_health.csv_rows(await account_health.health_report(portal_of(request), _now(), days))
    return csv_response(f"account-health-{_stamp()}.csv", header, rows)


async def _action(request: Request, user_id: int) -> tuple[dict, str, str]:
    """The account (404 when none), the reason sent with the form, and the page to go back to."""
    account = await account_health.get_account(check_id(user_id))
    if account is None:
        raise NotFoundException()
    form = await request.form()
    reason = str(form.get("reason", "")).strip()[: account_health.MAX_REASON]
    errors: dict[str, str] = {}
    days = parse_whole(str(form.get("days", ""))[:10], "days", errors, default=account_health.DEFAULT_INACTIVE_DAYS,
                       low=1, high=account_health.MAX_INACTIVE_DAYS)
    return account, reason, "/admin/account-health?" + urlencode({"days": days})


@post("/admin/account-health/{user_id:int}/lock", guards=ADMIN)
async def health_lock(request: Request, user_id: FromPath[int]) -> Response:
    account, reason, back = await _action(request, user_id)
    try:
        await account_health.lock_account(current_user(request), account["id"], reason, ip=client_ip(request))
    except account_health.ActionRefused as refused:
        flash(request, str(refused))
        return redirect(back)
    flash(request, _("The account %(name)s is locked and its sessions ended.", name=account["username"]))
    return redirect(back)


@post("/admin/account-health/{user_id:int}/password", guards=ADMIN)
async def health_password(request: Request, user_id: FromPath[int]) -> Response:
    account, reason, back = await _action(request, user_id)
    try:
        await account_health.require_password_change(current_user(request), account["id"], reason, ip=client_ip(request))
    except account_health.ActionRefused as refused:
        flash(request, str(refused))
        return redirect(back)
    flash(request, _("%(name)s must choose a new password at the next login; the sessions were ended.",
                     name=account["username"]))
    return redirect(back)


@post("/admin/account-health/{user_id:int}/notify", guards=ADMIN)
async def health_notify(request: Request, user_id: FromPath[int]) -> Response:
    account, reason, back = await _action(request, user_id)
    carriers = await account_health.notify_account(portal_of(request), current_user(request), account["id"],
                                                   reason or _("Please check your account."), ip=client_ip(request))
    if carriers:
        flash(request, _("%(name)s was notified (also by: %(carriers)s).", name=account["username"],
                         carriers=", ".join(carriers)))
    else:
        flash(request, _("%(name)s was notified on his open pages; no plugin delivered a message.",
                         name=account["username"]))
    return redirect(back)


REPORT_ROUTES = [logins_page, logins_csv, statistics_page, statistics_csv, health_page, health_csv,
                 health_lock, health_password, health_notify]
