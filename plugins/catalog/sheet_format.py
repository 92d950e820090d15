"""The spreadsheet layout bureaus exchange catalogs in (CAT-6): sheets, headers, value labels.

Headers and values are the exchange format itself, so they are fixed Chinese whatever the
reader's language (only the notes sheet is translated). One row per resource on the sheet
``信息资源`` with the core metadata of the national compilation guide (政务信息资源目录编制指南);
the data items (信息项) one per row on the sheet ``信息项``, each naming its resource by code or,
for a new resource without a code yet, by name. The column ``信息项名称`` of the first sheet
repeats the item names (、-separated) as the guide's one-line layout shows them; a sheet without
an items sheet may describe the items there alone (as text items).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RESOURCES_SHEET = "信息资源"
ITEMS_SHEET = "信息项"
CLASSIFICATIONS_SHEET = "分类代码"
NOTES_SHEET = "填写说明"


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    # The vocabulary whose labels the cells hold ("" = free text).
    vocabulary: str = ""
    # A sheet without this header is refused as a whole.
    required: bool = False
    width: int = 16


RESOURCE_COLUMNS = (
    Column("信息资源分类", "classification_id", required=True, width=24),
    Column("信息资源名称", "name", required=True, width=28),
    Column("信息资源代码", "code", width=20),
    Column("信息资源提供方", "provider", required=True, width=20),
    Column("提供方代码", "provider_code", required=True, width=22),
    Column("信息资源摘要", "abstract", required=True, width=40),
    Column("信息资源格式", "format", "format", required=True, width=14),
    Column("格式说明", "format_detail", width=14),
    Column("信息项名称", "item_names", width=40),
    Column("共享类型", "share_type", "share_type", required=True, width=14),
    Column("共享条件", "share_conditions", width=30),
    Column("共享方式", "share_method", "share_method", width=14),
    Column("是否向社会开放", "open_type", "open_type", width=14),
    Column("开放条件", "open_conditions", width=24),
    Column("更新周期", "update_cycle", "update_cycle", required=True, width=12),
    Column("发布日期", "published_on", width=12),
    Column("关联资源代码", "related_codes", width=24),
    Column("基础信息资源分类", "basic_classification_id", width=20),
    Column("主题信息资源分类", "thematic_classification_id", width=20),
    Column("密级", "secrecy", "secrecy", width=10),
)

ITEM_COLUMNS = (
    Column("信息资源代码", "resource_code", width=20),
    Column("信息资源名称", "resource_name", width=28),
    Column("信息项名称", "name", required=True, width=24),
    Column("数据类型", "data_type", "data_type", width=12),
    Column("数据长度", "length", width=10),
    Column("信息项说明", "description", width=40),
)

# The value each stored code is written as; import reads these, the aliases and the codes.
LABELS: dict[str, dict[str, str]] = {
    "share_type": {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"},
    "share_method": {"platform_api": "接口服务", "platform_exchange": "库表交换", "file": "文件下载", "offline": "离线拷贝"},
    "open_type": {"open": "无条件开放", "conditional": "有条件开放", "closed": "不予开放"},
    "format": {"database": "数据库", "spreadsheet": "电子表格", "document": "电子文件", "structured": "自描述格式",
               "image": "图形图像", "media": "流媒体", "api": "接口", "other": "其他"},
    "update_cycle": {"realtime": "实时", "daily": "每日", "weekly": "每周", "monthly": "每月", "quarterly": "每季度",
                     "half_yearly": "每半年", "yearly": "每年", "irregular": "不定期"},
    "secrecy": {"public": "公开", "internal": "内部", "secret": "秘密", "confidential": "机密", "top_secret": "绝密"},
    "data_type": {"string": "字符型", "integer": "整数型", "decimal": "数值型", "date": "日期型", "datetime": "日期时间型",
                  "boolean": "布尔型", "binary": "二进制"},
}

# Other spellings met in bureaus' sheets: the guide's one-letter data types (C 字符型, N 数值型, …),
# 是/否 for the open attribute, the share methods' longer names.
ALIASES: dict[str, dict[str, str]] = {
    "share_method": {"共享平台接口": "platform_api", "接口": "platform_api", "共享平台": "platform_api", "库表": "platform_exchange",
                     "文件": "file", "拷贝": "offline", "离线": "offline"},
    "open_type": {"是": "open", "否": "closed", "开放": "open", "不开放": "closed"},
    "format": {"数据库类": "database", "电子表格类": "spreadsheet", "电子文件类": "document", "图形图像类": "image",
               "流媒体类": "media", "自描述格式类": "structured", "接口类": "api", "其他类": "other"},
    "update_cycle": {"每天": "daily", "每月一次": "monthly", "每季": "quarterly", "半年": "half_yearly", "每年一次": "yearly",
                     "每半年一次": "half_yearly", "实时更新": "realtime"},
    "data_type": {"C": "string", "字符": "string", "N": "decimal", "F": "decimal", "B": "decimal", "Y": "decimal",
                  "I": "integer", "整型": "integer", "D": "date", "日期": "date", "T": "datetime", "L": "boolean",
                  "逻辑型": "boolean", "M": "string", "备注型": "string", "G": "binary", "通用型": "binary"},
}

ITEM_NAME_SEPARATORS = re.compile(r"[、,，;；\n]+")


def label(vocabulary: str, code: str) -> str:
    return LABELS[vocabulary].get(code, code)


def code_of(vocabulary: str, text: str) -> str | None:
    """The stored code a cell's text stands for (label, alias or the code itself), else None."""
    text = text.strip()
    for code, written in LABELS[vocabulary].items():
        if text in (written, code):
            return code
    aliases = ALIASES.get(vocabulary, {})
    return aliases.get(text, aliases.get(text.upper()))


def split_item_names(text: str) -> list[str]:
    return [name.strip() for name in ITEM_NAME_SEPARATORS.split(text) if name.strip()]


def classification_code(text: str) -> str:
    """The 分类码 at the start of a cell such as ``307016001 农村土地承包``."""
    match = re.match(r"\s*(\d{1,15})", text)
    return match[1] if match else ""
