"""Login, second factor, enrolment and logout pages."""

from __future__ import annotations

import time

from litestar import Request, Response, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromQuery

from portal.accounts.services import load_current_user
from portal.accounts.tables import User
from portal.auth import encryption, geo, password_change, restrictions, services, totp
from portal.i18n import gettext as _
from portal.plugins import gather_hook
from portal.web import client_ip, csrf_token, current_user, portal_of, rate_limited, redirect, render, safe_next

PENDING_SECONDS = 300
MAX_FIELD = 256


def _client(request: Request) -> services.Client:
    return services.Client(ip=client_ip(request), user_agent=request.headers.get("user-agent", "")[:300])


def _pending_user_id(request: Request) -> int:
    """The user who passed the password step within the last few minutes."""
    session = request.session
    user_id = session.get("pending_user")
    if not user_id or time.time() - session.get("pending_since", 0) > PENDING_SECONDS:
        raise NotAuthorizedException(_("Please log in."))
    return user_id


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value)[:MAX_FIELD] for key, value in form.items() if isinstance(value, str)}


def _lock_message(check: services.PasswordCheck | None) -> str:
    until = check.lock.until.astimezone().strftime("%H:%M") if check and check.lock and check.lock.until else ""
    return _("Too many failed attempts. Login is locked until %(time)s.", time=until)


async def _offer_encryption(request: Request) -> None:
    """Before the login handlers: the public key and a nonce for the login page's script (MAIL-15)."""
    settings = portal_of(request).settings
    key = await encryption.current_public_key(settings)
    if key is not None:
        request.state.login_encryption = {"key": key, "time": int(time.time()),
                                          "nonce": encryption.issue_nonce(settings.secret_key, csrf_token(request))}


async def _no_store(response: Response) -> Response:
    """After the login handlers: the page's nonce is for one view, so no cache (nor back-forward cache) keeps it."""
    response.headers["cache-control"] = "no-store"
    return response


async def _posted_password(request: Request, form: dict[str, str]) -> str:
    """The password: decrypted from the ciphertext the login script posts, else as typed (no JavaScript)."""
    cipher = (await request.form()).get(encryption.CIPHER_FIELD)
    if not isinstance(cipher, str) or not cipher:
        return form.get("password", "")
    return await encryption.decrypt_password(portal_of(request).settings, form.get(encryption.KEY_FIELD, ""), cipher,
                                             csrf_token(request))


@get("/login", name="login", before_request=_offer_encryption, after_request=_no_store)
async def login_page(request: Request, next: FromQuery[str] = "/") -> Response:
    if current_user(request):
        return redirect(safe_next(next))
    return await render(request, "auth/login.html", next=safe_next(next), error=None)


@post("/login", before_request=_offer_encryption, after_request=_no_store, opt=rate_limited("login"))
async def login_submit(request: Request) -> Response:
    portal = portal_of(request)
    form = await _form(request)
    next_path = safe_next(form.get("next"))
    username = form.get("username", "").strip()
    try:
        password = await _posted_password(request, form)
    except encryption.RejectedCipher as rejected:
        return await render(request, "auth/login.html", status_code=400, next=next_path, username=username,
                            error=str(rejected))
    if not username or not password:
        return await render(request, "auth/login.html", status_code=400, next=next_path, username=username,
                            error=_("Enter your username and password."))
    check = await services.check_password(portal.settings, username, password, _client(request))
    if check.result == "locked" or (check.lock and check.lock.locked):
        return await render(request, "auth/login.html", status_code=429, next=next_path, username=username,
                            error=_lock_message(check))
    if check.result == "inactive":
        return await render(request, "auth/login.html", status_code=403, next=next_path, username=username,
                            error=_("This account is disabled. Ask your administrator."))
    if check.result != "ok":
        return await render(request, "auth/login.html", status_code=401, next=next_path, username=username,
                            error=_("Wrong username or password."))
    refusal = await restrictions.login_refusal(username, check.user_id, _client(request))
    if refusal:
        return await render(request, "auth/login.html", status_code=403, next=next_path, username=username, error=refusal)
    request.clear_session()
    request.set_session({"pending_user": check.user_id, "pending_since": time.time(), "next": next_path,
                         **_kept_preferences(request)})
    return redirect("/login/verify" if check.has_second_factor else "/login/enrol")


def _kept_preferences(request: Request) -> dict:
    session = request.scope.get("session") or {}
    return {k: session[k] for k in ("locale", "theme") if isinstance(session, dict) and k in session}


async def _complete_login(request: Request, user_id: int) -> str:
    """Both factors passed: a fresh session (new id against fixation) holding a new token."""
    portal = portal_of(request)
    client = _client(request)
    token = await services.start_session(user_id, client)
    next_path = safe_next(request.session.get("next"))
    kept = _kept_preferences(request)
    request.clear_session()
    request.set_session({"token": token, **kept})
    if await password_change.required(user_id):
        request.session[password_change.SESSION_KEY] = True
    user = await load_current_user(user_id, portal.permissions)
    await gather_hook(portal.pm, "on_user_login", portal=portal, user=user, ip=client.ip)
    if await geo.alert_new_place(portal, user):
        request.session["flash"] = _("This login came from a place you have not logged in from before. "
                                     "If it was not you, change your password now.")
    return next_path


@get("/login/verify")
async def verify_page(request: Request) -> Response:
    _pending_user_id(request)
    return await render(request, "auth/verify.html", error=None)


@post("/login/verify", opt=rate_limited("login"))
async def verify_submit(request: Request) -> Response:
    user_id = _pending_user_id(request)
    form = await _form(request)
    result = await services.check_totp(portal_of(request).settings, user_id, form.get("code", ""), _client(request))
    if result == "locked":
        return await render(request, "auth/verify.html", status_code=429, error=_lock_message(None))
    if result != "ok":
        return await render(request, "auth/verify.html", status_code=401,
                            error=_("The code is wrong or was already used. Wait for the next code and try again."))
    return redirect(await _complete_login(request, user_id))


@get("/login/recovery")
async def recovery_page(request: Request) -> Response:
    _pending_user_id(request)
    return await render(request, "auth/recovery.html", error=None)


@post("/login/recovery", opt=rate_limited("login"))
async def recovery_submit(request: Request) -> Response:
    user_id = _pending_user_id(request)
    form = await _form(request)
    result = await services.check_recovery_code(portal_of(request).settings, user_id, form.get("code", ""), _client(request))
    if result == "locked":
        return await render(request, "auth/recovery.html", status_code=429, error=_lock_message(None))
    if result != "ok":
        return await render(request, "auth/recovery.html", status_code=401,
                            error=_("This recovery code is wrong or was already used."))
    next_path = await _complete_login(request, user_id)
    left = await services.remaining_recovery_codes(user_id)
    request.session["flash"] = _("You logged in with a recovery code. %(n)s codes are left.", n=left)
    return redirect(next_path)


async def _enrolment_context(request: Request, user_id: int) -> dict:
    portal = portal_of(request)
    secret = request.session.get("enrol_secret")
    if not secret:
        secret = totp.new_secret()
        request.session["enrol_secret"] = secret
    user = await User.select(User.username, User.totp_secret).where(User.id == user_id).first()
    if user["totp_secret"]:
        raise NotAuthorizedException(_("Please log in."))
    uri = totp.provisioning_uri(secret, user["username"], portal.settings.totp_issuer)
    from portal.templating import inline_svg

    return {"secret": secret, "qr": inline_svg(totp.qr_svg(uri)), "uri": uri}


@get("/login/enrol")
async def enrol_page(request: Request) -> Response:
    user_id = _pending_user_id(request)
    return await render(request, "auth/enrol.html", error=None, **await _enrolment_context(request, user_id))


@post("/login/enrol", opt=rate_limited("login"))
async def enrol_submit(request: Request) -> Response:
    user_id = _pending_user_id(request)
    context = await _enrolment_context(request, user_id)
    form = await _form(request)
    client = _client(request)
    if (await services.lock_state("", client.ip)).locked:
        return await render(request, "auth/enrol.html", status_code=429, error=_lock_message(None), **context)
    codes = await services.enrol_totp(portal_of(request).settings, user_id, context["secret"], form.get("code", ""), client)
    if codes is None:
        return await render(request, "auth/enrol.html", status_code=400,
                            error=_("The code does not match. Check the time on your phone and enter the current code."), **context)
    await _complete_login(request, user_id)
    request.session["new_recovery_codes"] = codes
    return redirect("/account/recovery-codes")


@post("/logout")
async def logout(request: Request) -> Response:
    token = request.scope.get("state", {}).get("session_token")
    if token:
        await services.end_session(token)
    kept = _kept_preferences(request)
    request.clear_session()
    if kept:
        request.set_session(kept)
    return redirect("/login")


AUTH_ROUTES = [login_page, login_submit, verify_page, verify_submit, recovery_page, recovery_submit, enrol_page, enrol_submit, logout]
