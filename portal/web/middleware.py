"""Per-request middleware: the current user, locale and theme; security headers."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.response.redirect import ASGIRedirectResponse
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from portal import i18n
from portal.auth import password_change
from portal.auth.services import session_user

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)
# A visitor's theme (large type, PUB-4) outlives his session: a plain cookie, read when neither
# his account nor his session names one.
THEME_COOKIE = "portal_theme"
THEME_COOKIE_MAX_AGE = 365 * 24 * 3600
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "SAMEORIGIN",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


class SecurityHeadersMiddleware(ASGIMiddleware):
    """A strict Content-Security-Policy (no inline script or style) on every response."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await next_app(scope, receive, send_with_headers)


def current_user_middleware(app: ASGIApp) -> ASGIApp:
    """Resolve the session's user, and the locale and theme to render in."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await app(scope, receive, send)
            return
        portal = scope["app"].state.portal
        session = scope.get("session") or {}
        if not isinstance(session, dict):
            session = {}
        user = None
        token = session.get("token")
        if token:
            user = await session_user(token, portal.permissions)
        state = scope.setdefault("state", {})
        state["user"] = user
        state["session_token"] = token if user else None
        locale = (user.locale if user else "") or session.get("locale") or _accept_language(scope) or portal.settings.default_locale
        theme = (user.theme if user else "") or session.get("theme") or _cookie(scope, THEME_COOKIE) or portal.settings.default_theme
        if theme not in portal.templates.themes:
            theme = portal.settings.default_theme
        i18n.set_locale(locale)
        state["locale"] = i18n.get_locale()
        state["theme"] = theme
        if user and password_change.blocks(session, scope["path"]):
            await ASGIRedirectResponse(path=password_change.PATH, status_code=303)(scope, receive, send)
            return
        await app(scope, receive, send)

    return middleware


def _cookie(scope: Scope, name: str) -> str | None:
    for header, value in scope.get("headers", []):
        if header == b"cookie":
            for pair in value.decode("latin-1").split(";"):
                key, _, cookie = pair.strip().partition("=")
                if key == name:
                    return cookie.strip('"')[:64]
    return None


def _accept_language(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            return i18n.negotiate(value.decode("latin-1"))
    return None
