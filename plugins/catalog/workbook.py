"""Reading and writing catalog workbooks (xlsx, openpyxl) in the layout of ``sheet_format``.

Reading never trusts the file: its size, the unpacked size of the zip, the number of rows and
the length of each cell are limited before or while openpyxl reads it (with defusedxml, which
openpyxl uses when installed, against XML entity tricks); anything that is not a workbook is
refused with a message instead of an exception. Cell values become text as a person typed
them: whole numbers without ``.0``, dates as YYYY-MM-DD.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from plugins.catalog.sheet_format import (CLASSIFICATIONS_SHEET, ITEM_COLUMNS, ITEMS_SHEET, LABELS, NOTES_SHEET,
                                          RESOURCE_COLUMNS, RESOURCES_SHEET, Column)
from portal.i18n import gettext as _

MAX_FILE_BYTES = 5 * 1024 * 1024
# A zip of a few MB may unpack to gigabytes; a real catalog workbook of the row limits below
# unpacks to well under this.
MAX_UNPACKED_BYTES = 80 * 1024 * 1024
MAX_ZIP_ENTRIES = 500
MAX_RESOURCE_ROWS = 1000
MAX_ITEM_ROWS = 20000
MAX_COLUMNS = 60
# Longer cells are cut one character past the longest field, so "at most N characters" is
# still said without keeping megabytes.
MAX_CELL = 2001
# Rows read past the limits above, blank ones included (a sheet formatted down to row 1,048,576
# is refused instead of read for minutes).
MAX_BLANK_ROWS = 10000
# The header row may sit below a title row or two.
HEADER_SEARCH_ROWS = 10
# Rows a template offers drop-down lists on.
TEMPLATE_ROWS = 500
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class FileRefused(Exception):
    """The upload is not a workbook this import reads; the message says why."""


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int | None
    column: str
    message: str


@dataclass
class SheetRow:
    row: int
    cells: dict[str, str]


@dataclass
class SheetData:
    resources: list[SheetRow] = field(default_factory=list)
    items: list[SheetRow] = field(default_factory=list)
    # Faults of the sheets as a whole (a required column missing).
    errors: list[RowError] = field(default_factory=list)
    has_items_sheet: bool = False
    # The sheet the resources were read from: 信息资源, else the first sheet.
    resources_sheet: str = RESOURCES_SHEET


# Reading ---------------------------------------------------------------------------------------


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()[:MAX_CELL]


def _check_container(data: bytes) -> None:
    if not data:
        raise FileRefused(_("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise FileRefused(_("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
    if data.startswith(OLE2_SIGNATURE):
        raise FileRefused(_("This is an Excel 97-2003 workbook (.xls). Save it as an Excel workbook (.xlsx) and upload that."))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise FileRefused(_("The file is not an Excel workbook (.xlsx).")) from None
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or not any(name.startswith("xl/") for name in names):
        raise FileRefused(_("The file is not an Excel workbook (.xlsx)."))
    if len(entries) > MAX_ZIP_ENTRIES or sum(entry.file_size for entry in entries) > MAX_UNPACKED_BYTES:
        raise FileRefused(_("The workbook unpacks to more than a catalog can hold; remove what is not the catalog."))


def _header_of(rows: list[tuple], columns: tuple[Column, ...]) -> tuple[int, dict[int, str]] | None:
    """The header row's number (1-based) and, by position, the field of each known header."""
    by_header = {column.header: column.field for column in columns}
    for number, values in enumerate(rows, start=1):
        found = {}
        for position, value in enumerate(values):
            header = cell_text(value).replace("*", "").replace("＊", "").replace(" ", "").replace("\u3000", "")
            if header in by_header and by_header[header] not in found.values():
                found[position] = by_header[header]
        if len(found) >= 2:
            return number, found
    return None


def _read_sheet(sheet, columns: tuple[Column, ...], sheet_name: str, limit: int, result: SheetData) -> list[SheetRow]:
    rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    head = []
    for values in rows:
        head.append(values)
        if len(head) == HEADER_SEARCH_ROWS:
            break
    located = _header_of(head, columns)
    if located is None:
        result.errors.append(RowError(sheet_name, None, "", _("No header row with the columns of the catalog layout (信息资源名称, …) in the first %(n)d rows.") % {"n": HEADER_SEARCH_ROWS}))
        return []
    header_row, fields = located
    present = set(fields.values())
    for column in columns:
        if column.required and column.field not in present:
            result.errors.append(RowError(sheet_name, header_row, column.header, _("The column is missing.")))
    found: list[SheetRow] = []

    def take(number: int, values: tuple) -> None:
        cells = {name: cell_text(values[position]) if position < len(values) else "" for position, name in fields.items()}
        if any(cells.values()):
            found.append(SheetRow(number, cells))
        if len(found) > limit or number > limit + MAX_BLANK_ROWS:
            raise FileRefused(_("The sheet %(sheet)s has more than %(n)d rows; import it in parts.") % {"sheet": sheet_name, "n": limit})

    for number, values in enumerate(head[header_row:], start=header_row + 1):
        take(number, values)
    for number, values in enumerate(rows, start=len(head) + 1):
        take(number, values)
    return found


def read_workbook(data: bytes) -> SheetData:
    """The rows of a catalog workbook: the sheet 信息资源 (else the first sheet) and 信息项."""
    _check_container(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged file; all mean the same to the person
        raise FileRefused(_("The workbook cannot be read; it may be damaged. Open it in Excel or WPS, save it as .xlsx and try again.")) from None
    try:
        result = SheetData()
        names = book.sheetnames
        resources_sheet = book[RESOURCES_SHEET] if RESOURCES_SHEET in names else book[names[0]]
        result.resources_sheet = resources_sheet.title
        result.resources = _read_sheet(resources_sheet, RESOURCE_COLUMNS, resources_sheet.title, MAX_RESOURCE_ROWS, result)
        if ITEMS_SHEET in names and book[ITEMS_SHEET] is not resources_sheet:
            result.has_items_sheet = True
            result.items = _read_sheet(book[ITEMS_SHEET], ITEM_COLUMNS, ITEMS_SHEET, MAX_ITEM_ROWS, result)
        return result
    except FileRefused:
        raise
    except Exception:
        raise FileRefused(_("The workbook cannot be read; it may be damaged. Open it in Excel or WPS, save it as .xlsx and try again.")) from None
    finally:
        book.close()


# Writing ---------------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
TEXT_FIELDS = {"code", "provider_code", "classification_id", "basic_classification_id", "thematic_classification_id",
               "related_codes", "resource_code"}


WRAPPED = Alignment(wrap_text=True, vertical="top")
WRAPPED_FIELDS = {"abstract", "share_conditions", "open_conditions", "description", "item_names"}


def _write_sheet(sheet, columns: tuple[Column, ...], rows: list[dict]) -> None:
    for position, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=position, value=column.header)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        sheet.column_dimensions[get_column_letter(position)].width = column.width
    # Cell by cell in one pass: openpyxl's row and column access (sheet[2], sheet["A"]) measures the
    # whole sheet each time, which made a thousand rows take most of a minute.
    for number, values in enumerate(rows, start=2):
        for position, column in enumerate(columns, start=1):
            cell = sheet.cell(row=number, column=position, value=values.get(column.field, ""))
            if isinstance(cell.value, str) and cell.value.startswith("="):
                # openpyxl writes text beginning with "=" as a formula, which the reader's Excel
                # would run (=HYPERLINK, DDE…): written as text it stays what the editor typed.
                cell.data_type = "s"
            if column.field in TEXT_FIELDS:
                # Codes stay text: Excel would turn an 18-digit credit code into 1.1E+17.
                cell.number_format = "@"
            elif column.field == "published_on":
                cell.number_format = "yyyy-mm-dd"
            elif column.field in WRAPPED_FIELDS:
                cell.alignment = WRAPPED
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"


def _add_choices(sheet, columns: tuple[Column, ...], last_row: int) -> None:
    """Drop-down lists of the labels on the vocabulary columns (typing another value stays possible
    — an alias — and the import says what is wrong with it)."""
    for position, column in enumerate(columns, start=1):
        if not column.vocabulary:
            continue
        choices = ",".join(LABELS[column.vocabulary].values())
        validation = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True, showErrorMessage=False)
        letter = get_column_letter(position)
        validation.add(f"{letter}2:{letter}{last_row}")
        sheet.add_data_validation(validation)


def write_workbook(resources: list[dict], items: list[dict], classifications: list[tuple[str, str, str]],
                   notes: list[tuple[str, str]]) -> bytes:
    """A catalog workbook: ``resources`` and ``items`` as cell values by field, the
    classification codes to choose from (code, name, tree), the notes on filling it in."""
    book = Workbook()
    sheet = book.active
    sheet.title = RESOURCES_SHEET
    _write_sheet(sheet, RESOURCE_COLUMNS, resources)
    _add_choices(sheet, RESOURCE_COLUMNS, max(TEMPLATE_ROWS, len(resources) + 1))
    item_sheet = book.create_sheet(ITEMS_SHEET)
    _write_sheet(item_sheet, ITEM_COLUMNS, items)
    _add_choices(item_sheet, ITEM_COLUMNS, max(TEMPLATE_ROWS, len(items) + 1))
    codes = book.create_sheet(CLASSIFICATIONS_SHEET)
    codes.append(["分类码", "名称", "目录"])
    for row in classifications:
        codes.append(list(row))
    for cell in codes[1]:
        cell.font = HEADER_FONT
    codes.column_dimensions["A"].width = 14
    codes.column_dimensions["B"].width = 36
    codes.column_dimensions["C"].width = 28
    for cell in codes["A"]:
        cell.number_format = "@"
    guide = book.create_sheet(NOTES_SHEET)
    for row in notes:
        guide.append(list(row))
    guide.column_dimensions["A"].width = 22
    guide.column_dimensions["B"].width = 90
    for cell in guide["B"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()
