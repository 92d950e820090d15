"""The ``portal`` object every hook receives: the few things plugins may use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from portal import i18n
from portal.settings import Settings
from portal.tls.store import CertificateStore, ServerTLS

if TYPE_CHECKING:
    from litestar import Litestar

    from portal.templating import Templates


class Portal:
    """Settings, URL building, rendering, auditing and the plugin list, for plugins and core alike."""

    def __init__(self, settings: Settings, pm: pluggy.PluginManager):
        self.settings = settings
        self.pm = pm
        self.templates: Templates | None = None
        self.app: Litestar | None = None
        self.permissions = None
        self.channels = None
        self.worker = None
        # The uploaded certificate (MAIL-21), served by HTTPS and SMTP STARTTLS.
        self.tls = ServerTLS(CertificateStore(settings.data_dir / "tls"))

    @property
    def plugin_names(self) -> list[str]:
        return [name for name, _ in self.pm.list_name_plugin()]

    def plugin_settings(self, name: str) -> dict[str, Any]:
        return self.settings.section(name)

    def url(self, route_name: str, **params: Any) -> str:
        assert self.app is not None
        return self.app.route_reverse(route_name, **params)

    def static(self, root: str, path: str) -> str:
        assert self.templates is not None
        return self.templates.static_url(root, path)

    def render(self, template: str, **context: Any) -> str:
        """Render a template (looked up theme ▸ plugin ▸ core) to a string."""
        assert self.templates is not None
        return self.templates.render(template, context)

    gettext = staticmethod(i18n.gettext)
    ngettext = staticmethod(i18n.ngettext)

    def notify(self, user_id: int, kind: str, **payload: Any) -> None:
        """Send an event to every open page of a user (``/events``); ``kind`` names the event."""
        from portal.notify import publish

        publish(self.channels, user_id, kind, payload)

    def tls_context(self):
        """The ``ssl.SSLContext`` for a listener offering TLS with the uploaded certificate, or None
        while none was uploaded. Each new connection gets the certificate current at its handshake."""
        return self.tls.context if self.tls.available() else None

    async def deliver_system_message(self, recipients: list, message) -> tuple[list, list]:
        """Send a ``portal.api.SystemMessage`` to mail addresses and account ids through the plugins
        that deliver mail (``deliver_system_message`` hook); returns (delivered, undelivered)."""
        from portal.plugins import gather_hook

        delivered = set(await gather_hook(self.pm, "deliver_system_message", portal=self, recipients=list(recipients),
                                          message=message))
        return [r for r in recipients if r in delivered], [r for r in recipients if r not in delivered]

    async def audit(self, action: str, *, actor=None, target_type: str = "", target_id: Any = "", summary: str = "", ip: str = "", details: dict | None = None) -> None:
        """Write an audit entry; ``actor`` is a ``CurrentUser`` or None for the system."""
        from portal.audit.services import write_audit

        await write_audit(action, actor=actor, target_type=target_type, target_id=target_id, summary=summary, ip=ip, details=details)
