"""The fields of a request for disclosure and their checks (PUB-3).

Article 29 of the Regulations on Open Government Information: a request gives the applicant's
name, his proof of identity and how to reach him, a description of the information precise
enough to find it (its name, document number or other features), and the form in which he
wants it. A purpose is not required. Every field has a limit; a bad field gets a message of its
own and everything typed is kept.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, fields

from portal.i18n import gettext as _

LIMITS = {"name": 100, "id_number": 40, "phone": 30, "email": 254, "address": 200, "title": 200,
          "description": 2000, "purpose": 500}
APPLICANT_KINDS = ("person", "organisation")
ID_KINDS = {"person": ("id_card", "passport", "permit", "other_person"), "organisation": ("credit_code", "other_organisation")}
DELIVERIES = ("online", "email", "post", "pickup")

ID_CARD_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CARD_CHECK = "10X98765432"
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
OTHER_ID = re.compile(r"^[A-Za-z0-9()（）\-]{4,40}$")


def applicant_kind_labels() -> dict[str, str]:
    return {"person": _("A citizen"), "organisation": _("A legal person or other organisation")}


def id_kind_labels() -> dict[str, str]:
    return {"id_card": _("Resident identity card"), "passport": _("Passport"),
            "permit": _("Mainland travel permit (Hong Kong, Macao, Taiwan)"), "other_person": _("Other identity document"),
            "credit_code": _("Unified social credit code"), "other_organisation": _("Other registration number")}


def delivery_labels() -> dict[str, str]:
    return {"online": _("Read it on this portal (tracking page)"), "email": _("By e-mail"),
            "post": _("On paper, by post"), "pickup": _("On paper, collected in person")}


@dataclass(frozen=True)
class RequestForm:
    """What the applicant typed, stripped, as strings: the form shows it again unchanged."""

    unit: str = ""
    applicant_kind: str = "person"
    name: str = ""
    id_kind: str = "id_card"
    id_number: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    title: str = ""
    description: str = ""
    purpose: str = ""
    delivery: str = "online"

    @classmethod
    def from_form(cls, form) -> "RequestForm":
        values = {}
        for field in fields(cls):
            value = form.get(field.name, "")
            values[field.name] = unicodedata.normalize("NFC", value if isinstance(value, str) else "").strip()
        return cls(**values)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @property
    def unit_id(self) -> int | None:
        return int(self.unit) if self.unit.isascii() and self.unit.isdigit() and len(self.unit) < 10 else None

    @property
    def normalised_id(self) -> str:
        return self.id_number.replace(" ", "").upper()


def id_card_valid(number: str) -> bool:
    """A resident identity card number (GB 11643-1999): 17 digits and the ISO 7064 check."""
    if len(number) != 18 or not number[:17].isascii() or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], ID_CARD_WEIGHTS))
    return number[17] == ID_CARD_CHECK[total % 11]


def credit_code_valid(code: str) -> bool:
    """A unified social credit code (GB 32100-2015): 18 characters and the check character."""
    if len(code) != 18 or any(c not in CREDIT_CODE_CHARS for c in code):
        return False
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(code[:17], CREDIT_CODE_WEIGHTS))
    return code[17] == CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def _id_error(form: RequestForm) -> str | None:
    number = form.normalised_id
    if not number:
        return _("Enter the number of the identity document.")
    if form.id_kind == "id_card" and not id_card_valid(number):
        return _("This is not a valid resident identity card number (18 characters; check the last one).")
    if form.id_kind == "credit_code" and not credit_code_valid(number):
        return _("This is not a valid unified social credit code (18 characters).")
    if not OTHER_ID.match(number):
        return _("Enter the document number with letters and digits only (4 to 40 characters).")
    return None


def _phone_error(phone: str) -> str | None:
    digits = sum(c.isdigit() for c in phone)
    if not phone:
        return _("Enter a telephone number the unit can reach you at.")
    if any(not (c.isascii() and (c.isdigit() or c in " +-()")) for c in phone) or not 7 <= digits <= 20:
        return _("Enter the telephone number with digits only (7 to 20 digits; spaces, + and - are allowed).")
    return None


def field_errors(form: RequestForm, unit_names: dict[int, str]) -> dict[str, str]:
    """A message per bad field; empty when the request can be filed. ``unit_names``: the units
    that can be asked."""
    errors: dict[str, str] = {}
    for name, limit in LIMITS.items():
        if len(getattr(form, name)) > limit:
            errors[name] = _("At most %(limit)s characters.", limit=limit)
    if form.unit_id not in unit_names:
        errors["unit"] = _("Choose the unit you ask.")
    if form.applicant_kind not in APPLICANT_KINDS:
        errors["applicant_kind"] = _("Choose whether you ask as a citizen or as an organisation.")
    elif form.id_kind not in ID_KINDS[form.applicant_kind]:
        errors["id_kind"] = _("Choose the kind of identity document.")
    if not form.name:
        errors.setdefault("name", _("Enter your name, or the organisation's name."))
    if "id_kind" not in errors and "applicant_kind" not in errors and "id_number" not in errors:
        if message := _id_error(form):
            errors["id_number"] = message
    if "phone" not in errors and (message := _phone_error(form.phone)):
        errors["phone"] = message
    if form.email and "email" not in errors and not EMAIL.match(form.email):
        errors["email"] = _("This is not an e-mail address.")
    if not form.title:
        errors.setdefault("title", _("Enter the name or the document number of the information you ask for."))
    if not form.description:
        errors.setdefault("description", _("Describe the information so the unit can find it."))
    if form.delivery not in DELIVERIES:
        errors["delivery"] = _("Choose how you want to receive the information.")
    elif form.delivery == "email" and not form.email:
        errors.setdefault("email", _("Enter the e-mail address to send the information to."))
    elif form.delivery == "post" and not form.address:
        errors.setdefault("address", _("Enter the postal address to send the information to."))
    return errors
