"""The fixed values of a resource's description (编制指南 core metadata) and their labels.

Values are stored as short English codes; the labels are what a person reads, in his language.
"""

from __future__ import annotations

from portal.i18n import gettext as _

SHARE_TYPES = ("unconditional", "conditional", "none")
SHARE_METHODS = ("platform_api", "platform_exchange", "file", "offline")
OPEN_TYPES = ("open", "conditional", "closed")
FORMATS = ("database", "spreadsheet", "document", "structured", "image", "media", "api", "other")
UPDATE_CYCLES = ("realtime", "daily", "weekly", "monthly", "quarterly", "half_yearly", "yearly", "irregular")
SECRECY_LEVELS = ("public", "internal", "secret", "confidential", "top_secret")
# Never in an approved catalog, a total catalog, a search or any shared or public view.
SECRET_LEVELS = ("secret", "confidential", "top_secret")
DATA_TYPES = ("string", "integer", "decimal", "date", "datetime", "boolean", "binary")
TREES = ("basic", "thematic", "departmental")
RESOURCE_STATUSES = ("draft", "submitted", "approved", "withdrawn")
FILING_STATUSES = ("submitted", "approved", "returned", "withdrawn")


def labels() -> dict[str, dict[str, str]]:
    """Every vocabulary's labels in the current language, by vocabulary and value."""
    return {
        "share_type": {"unconditional": _("Unconditional sharing (无条件共享)"), "conditional": _("Conditional sharing (有条件共享)"),
                       "none": _("Not shared (不予共享)")},
        "share_method": {"platform_api": _("Interface of the sharing platform"), "platform_exchange": _("Table exchange through the sharing platform"),
                         "file": _("File download"), "offline": _("Offline copy")},
        "open_type": {"open": _("Open to the public"), "conditional": _("Open to the public on conditions"), "closed": _("Not open to the public")},
        "format": {"database": _("Database"), "spreadsheet": _("Spreadsheet"), "document": _("Electronic document"),
                   "structured": _("Self-describing format (XML, JSON)"), "image": _("Graphics and images"), "media": _("Streaming media"),
                   "api": _("Service interface"), "other": _("Other format")},
        "update_cycle": {"realtime": _("Real time"), "daily": _("Daily"), "weekly": _("Weekly"), "monthly": _("Monthly"),
                         "quarterly": _("Quarterly"), "half_yearly": _("Half-yearly"), "yearly": _("Yearly"), "irregular": _("Irregular")},
        "secrecy": {"public": _("Public (公开)"), "internal": _("Internal (内部)"), "secret": _("Secret (秘密)"),
                    "confidential": _("Confidential (机密)"), "top_secret": _("Top secret (绝密)")},
        "data_type": {"string": _("Character string"), "integer": _("Integer"), "decimal": _("Decimal number"), "date": _("Date"),
                      "datetime": _("Date and time"), "boolean": _("Yes/no"), "binary": _("Binary")},
        "tree": {"basic": _("Basic resources catalog (基础信息资源目录)"), "thematic": _("Thematic resources catalog (主题信息资源目录)"),
                 "departmental": _("Departmental resources catalog (部门信息资源目录)")},
        "status": {"draft": _("Draft"), "submitted": _("Under review"), "approved": _("Approved"), "withdrawn": _("To be removed")},
        "filing_status": {"submitted": _("Under review"), "approved": _("Approved"), "returned": _("Returned"), "withdrawn": _("Withdrawn")},
        "verdict": {"": _("Not reviewed"), "approved": _("Agreed"), "returned": _("To be corrected")},
    }
