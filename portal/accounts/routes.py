"""A user's own account: password, sessions, login records, recovery codes, preferences."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import FromPath

from portal.accounts.services import set_preferences
from portal.auth import services
from portal.i18n import LOCALES
from portal.i18n import gettext as _
from portal.web import current_user, login_required, portal_of, redirect, render, safe_next
from portal.web.middleware import THEME_COOKIE, THEME_COOKIE_MAX_AGE


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v)[:256] for k, v in form.items() if isinstance(v, str)}


@get("/account", guards=[login_required])
async def account_page(request: Request) -> Response:
    user = current_user(request)
    return await render(request, "account/index.html", flash=request.session.pop("flash", None),
                        recovery_left=await services.remaining_recovery_codes(user.id))


@get("/account/password", guards=[login_required])
async def password_page(request: Request) -> Response:
    return await render(request, "account/password.html", error=None)


@post("/account/password", guards=[login_required])
async def password_submit(request: Request) -> Response:
    user = current_user(request)
    form = await _form(request)
    try:
        await services.change_password(portal_of(request).settings, user.id, form.get("current", ""),
                                       form.get("new", ""), form.get("confirm", ""))
    except services.PasswordChangeError as error:
        return await render(request, "account/password.html", status_code=400, error=str(error))
    request.session["flash"] = _("Your password was changed.")
    return redirect("/account")


@get("/account/sessions", guards=[login_required])
async def sessions_page(request: Request) -> Response:
    user = current_user(request)
    return await render(request, "account/sessions.html", fragment="account/_sessions.html",
                        sessions=await services.list_sessions(user.id),
                        current_token=request.scope["state"]["session_token"])


@post("/account/sessions/{session_id:int}/end", guards=[login_required])
async def end_session(request: Request, session_id: FromPath[int]) -> Response:
    user = current_user(request)
    await services.end_user_session(user.id, session_id)
    return redirect("/account/sessions")


@post("/account/sessions/end-others", guards=[login_required])
async def end_other_sessions(request: Request) -> Response:
    user = current_user(request)
    await services.end_other_sessions(user.id, request.scope["state"]["session_token"])
    return redirect("/account/sessions")


@get("/account/logins", guards=[login_required])
async def logins_page(request: Request) -> Response:
    user = current_user(request)
    return await render(request, "account/logins.html", records=await services.login_records(user.id))


@get("/account/recovery-codes", guards=[login_required])
async def recovery_codes_page(request: Request) -> Response:
    # Shown once: the codes leave the session as they are displayed.
    codes = request.session.pop("new_recovery_codes", None)
    if not codes:
        return redirect("/account")
    return await render(request, "account/recovery_codes.html", codes=codes)


@post("/preferences")
async def preferences_submit(request: Request) -> Response:
    """Language and theme: kept on the account when logged in; otherwise the language in the
    session and the theme in a long-lived cookie, so a visitor who chose large type (PUB-4) keeps
    it on his next visit and choosing it alone creates no server-side session."""
    portal = portal_of(request)
    form = await _form(request)
    locale = form.get("locale") if form.get("locale") in LOCALES else None
    theme = form.get("theme") if form.get("theme") in portal.templates.themes else None
    user = current_user(request)
    if user:
        await set_preferences(user.id, locale, theme)
    if locale:
        if not isinstance(request.scope.get("session"), dict):
            request.set_session({})
        request.session["locale"] = locale
    response = redirect(safe_next(form.get("next")))
    if theme:
        if isinstance(request.scope.get("session"), dict):
            request.session.pop("theme", None)  # the cookie decides from now on
        response.set_cookie(THEME_COOKIE, theme, max_age=THEME_COOKIE_MAX_AGE, path="/", samesite="lax",
                            httponly=True, secure=portal.settings.secure_cookies)
    return response


ACCOUNT_ROUTES = [account_page, password_page, password_submit, sessions_page, end_session, end_other_sessions,
                  logins_page, recovery_codes_page, preferences_submit]
