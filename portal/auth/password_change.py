"""A new password before anything else (MAIL-11): when an administrator required it (account
health), the login completes as usual but the session is marked, and every page but this one
(and logging out) leads here until the user has chosen a new password.
"""

from __future__ import annotations

import asyncio

from litestar import Request, Response, get, post

from portal.accounts.tables import User
from portal.auth import passwords
from portal.auth.services import PasswordChangeError, validate_new_password
from portal.i18n import gettext as _
from portal.web import current_user, login_required, portal_of, redirect, render

SESSION_KEY = "must_change_password"
PATH = "/login/new-password"
# What a marked session may still reach: this page, logging out, the recovery codes just
# enrolled (shown once), and the language and theme switch.
ALLOWED_PATHS = frozenset({PATH, "/logout", "/account/recovery-codes", "/preferences"})


async def required(user_id: int) -> bool:
    row = await User.select(User.must_change_password).where(User.id == user_id).first()
    return bool(row and row["must_change_password"])


def blocks(session: dict, path: str) -> bool:
    """Whether a request for ``path`` must be sent to the new-password page instead."""
    return bool(session.get(SESSION_KEY)) and path not in ALLOWED_PATHS


async def set_new_password(settings, user_id: int, new: str, confirm: str) -> None:
    """The usual password rules, and it must not be the password the administrator distrusted."""
    user = await User.objects().get(User.id == user_id)
    validate_new_password(settings, new, confirm, user.username)
    if await asyncio.to_thread(passwords.verify_password, user.password_hash, new):
        raise PasswordChangeError(_("Choose a password other than your current one."))
    await User.update({User.password_hash: passwords.hash_password(new), User.must_change_password: False}).where(
        User.id == user_id)


@get(PATH, guards=[login_required])
async def new_password_page(request: Request) -> Response:
    return await render(request, "auth/new_password.html", error=None)


@post(PATH, guards=[login_required])
async def new_password_submit(request: Request) -> Response:
    form = await request.form()
    values = {key: str(form.get(key, ""))[:256] for key in ("new", "confirm")}
    try:
        await set_new_password(portal_of(request).settings, current_user(request).id, values["new"], values["confirm"])
    except PasswordChangeError as error:
        return await render(request, "auth/new_password.html", status_code=400, error=str(error))
    request.session.pop(SESSION_KEY, None)
    request.session["flash"] = _("Your password was changed.")
    return redirect("/")


PASSWORD_CHANGE_ROUTES = [new_password_page, new_password_submit]
