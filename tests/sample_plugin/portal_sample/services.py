"""Note rules, as plain async functions that tests can call without HTTP."""

from portal.db import write_transaction
from portal_sample.tables import Note

MAX_LENGTH = 500


class InvalidNote(ValueError):
    pass


async def add_note(user, text: str) -> int:
    text = text.strip()
    if not text:
        raise InvalidNote("empty")
    if len(text) > MAX_LENGTH:
        raise InvalidNote("too long")
    async with write_transaction():
        rows = await Note.insert(Note(author=user.id, text=text))
    return rows[0]["id"]


async def notes_of(user) -> list[dict]:
    return await Note.select(Note.id, Note.text, Note.created_at).where(Note.author == user.id).order_by(Note.id, ascending=False).limit(100)


async def count_notes(user) -> int:
    return await Note.count().where(Note.author == user.id)
