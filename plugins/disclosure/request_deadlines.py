"""Deadlines of requests for disclosure in working days (PUB-3), by the Regulations on Open
Government Information (中华人民共和国政府信息公开条例, 2019), article 33:

- a request that cannot be answered on the spot is answered within 20 working days of the day
  it was received (the day of receipt itself is not counted);
- when the request is unclear, the unit asks once for more details within 7 working days of
  receipt (补正, article 30), giving the applicant a reasonable period; the 20 days count anew
  from the day his details arrive, and if none arrive in time the request counts as abandoned;
- when more time is truly needed, the head of the disclosure office may extend it once, by at
  most 20 working days, and the applicant is told — so the extension is decided before the
  first deadline has passed, and its reason is recorded and shown to him.

Working days follow the State Council's holiday calendar (``portal.workdays``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from portal.workdays import add_working_days, working_days_between

LIMIT_DAYS = 20
EXTENSION_DAYS = 20
# A request due within this many working days is shown as due soon.
SOON_DAYS = 3
SUPPLEMENT_ASK_DAYS = 7
SUPPLEMENT_DAYS = 15
SUPPLEMENT_MAX_DAYS = 60


def first_due(received_on: date) -> date:
    return add_working_days(received_on, LIMIT_DAYS)


def extended_due(original_due_on: date) -> date:
    return add_working_days(original_due_on, EXTENSION_DAYS)


@dataclass(frozen=True)
class Deadline:
    """Where an unanswered request stands against its deadline on ``today``."""

    due_on: date
    # Working days from today to the deadline (0 on the day itself); negative once overdue:
    # minus the working days that have passed since.
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def soon(self) -> bool:
        return 0 <= self.days_left <= SOON_DAYS


def deadline(due_on: date, today: date) -> Deadline:
    if today <= due_on:
        return Deadline(due_on, working_days_between(today, due_on))
    return Deadline(due_on, -max(1, working_days_between(due_on, today)))


def may_extend(status: str, extended: bool, due_on: date, today: date) -> bool:
    """Once, while the request is open and its first deadline has not passed."""
    return status == "open" and not extended and today <= due_on


def may_ask_supplement(status: str, asked: bool, received_on: date, today: date) -> bool:
    """Once, while the request is open, within 7 working days of its receipt."""
    return status == "open" and not asked and working_days_between(received_on, today) <= SUPPLEMENT_ASK_DAYS


def supplement_due(asked_on: date, days: int) -> date:
    return add_working_days(asked_on, days)
