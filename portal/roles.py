"""Roles of the organisation and the permissions they hold.

Roles are fixed by the core (the flows of documents and catalogs name them); permissions are
declared by the core and by plugins (``register_permissions``) with the roles that hold them.
"""

from __future__ import annotations

from portal.api import Permission
from portal.i18n import gettext as _

ROLE_CODES = (
    "staff",
    "department_head",
    "office_head",
    "leader",
    "director",
    "print_room",
    "secretary",
    "admin",
    "data_officer",
    "publisher",
    "catalog_editor",
    "catalog_reviewer",
)


def role_labels() -> dict[str, str]:
    return {
        "staff": _("Staff"),
        "department_head": _("Department head"),
        "office_head": _("Office head"),
        "leader": _("Leader"),
        "director": _("Director"),
        "print_room": _("Print room"),
        "secretary": _("Secretary"),
        "admin": _("Administrator"),
        "data_officer": _("Data bureau officer"),
        "publisher": _("Publisher"),
        "catalog_editor": _("Catalog editor"),
        "catalog_reviewer": _("Catalog reviewer (big-data bureau)"),
    }


CORE_PERMISSIONS = [
    Permission("core.admin", "Administer the portal", roles=("admin",)),
    Permission("core.audit", "Read the audit log", roles=("admin",)),
]


class PermissionRegistry:
    def __init__(self, permissions: list[Permission]):
        self.permissions = {p.name: p for p in permissions}
        self.by_role: dict[str, set[str]] = {}
        for permission in permissions:
            for role in permission.roles:
                self.by_role.setdefault(role, set()).add(permission.name)

    def for_roles(self, roles: set[str] | frozenset[str]) -> frozenset[str]:
        granted: set[str] = set()
        for role in roles:
            granted |= self.by_role.get(role, set())
        if "admin" in roles:
            granted |= set(self.permissions)
        return frozenset(granted)
