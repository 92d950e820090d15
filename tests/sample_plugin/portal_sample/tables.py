from piccolo.columns import Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Note(Table, tablename="sample_note"):
    """A short note; ``author`` is the id of the user who wrote it."""

    author = Integer(index=True)
    text = Varchar(length=500)
    created_at = Timestamptz(default=TimestamptzNow())
