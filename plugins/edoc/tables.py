"""Tables of official documents: flows as data (DOC-1, DOC-2, DOC-8), documents and their steps."""

from piccolo.columns import Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from portal.accounts.tables import User


class Flow(Table, tablename="edoc_flow"):
    """A flow definition: ``unit`` None is the default every unit starts from; a unit's own copy
    (made when an administrator adjusts it) takes its place for that unit."""

    unit = Integer(null=True, default=None, index=True)
    # upward (上行文), downward (下行文 and 平行文), incoming (收文)
    kind = Varchar(length=10)
    name = Varchar(length=60)
    updated_at = Timestamptz(default=TimestamptzNow())


class FlowStep(Table, tablename="edoc_flow_step"):
    """One step: who acts (a role in a scope) and what the step allows, by position in its flow."""

    flow = ForeignKey(Flow, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    # What the engine does at the step: draft, review, leaders, assign, handle, number, send, end.
    kind = Varchar(length=12)
    name = Varchar(length=40)
    role = Varchar(length=40, default="")
    # Where the role is held: drafter, department (DOC-3), office, unit, handling.
    scope = Varchar(length=12, default="")
    # Comma-separated actions the step allows (see plugins.edoc.flows.ACTIONS).
    actions = Varchar(length=200, default="")


class Document(Table, tablename="edoc_document"):
    title = Varchar(length=200)
    # upward (上行文), downward (下行文), parallel (平行文), incoming (收文)
    direction = Varchar(length=10)
    # draft (with the drafter), in_progress, sent (outgoing done), finished (incoming done)
    status = Varchar(length=20, default="draft")
    drafter = ForeignKey(User, on_delete=OnDelete.restrict, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    doc_type = Varchar(length=10, default="")
    unit = Integer(null=True, default=None, index=True)
    department = Integer(null=True, default=None)
    flow = ForeignKey(Flow, null=True, on_delete=OnDelete.restrict)
    # The position of the step the document is at.
    position = Integer(default=0)
    main_recipients = Varchar(length=500, default="")
    copy_recipients = Varchar(length=500, default="")
    urgency = Varchar(length=12, default="normal")
    classification = Varchar(length=12, default="public")
    body = Text(default="")
    has_attachments = Boolean(default=False)
    # 发文字号, given by the print room's registration step.
    number = Varchar(length=60, default="")
    # Incoming documents: the sending unit (来文单位) and the department the secretary sends it to.
    source = Varchar(length=200, default="")
    handling_department = Integer(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class Task(Table, tablename="edoc_task"):
    """A document held at a step: by a person (``assignee``) or by a role inbox (DOC-9) that one
    holder takes. Open while ``completed_at`` is null; the closed ones are the history (DOC-4)."""

    document = ForeignKey(Document, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    # "" the step itself; countersign (会签 by another leader), secretary and office (DOC-6).
    phase = Varchar(length=12, default="")
    # The step's name when the task was made: the history survives later edits of the flow.
    step_name = Varchar(length=40)
    assignee = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    role = Varchar(length=40, default="")
    scope_unit = Integer(null=True, default=None)
    scope_department = Integer(null=True, default=None)
    taken_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    opened_at = Timestamptz(null=True, default=None)
    opinion = Text(default="")
    opinion_at = Timestamptz(null=True, default=None)
    # The task it came from and who sent it: the sender may recall it while unopened (DOC-7).
    sent_from = Integer(null=True, default=None)
    sent_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    created_at = Timestamptz(default=TimestamptzNow())
    completed_at = Timestamptz(null=True, default=None, index=True)
    completed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    # approve, return, countersign, to_secretary, number, send, recalled
    action = Varchar(length=20, default="")
