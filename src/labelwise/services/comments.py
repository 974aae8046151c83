"""Per-item comment threads, and who may read an item's discussion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from labelwise.db.engine import Database
from labelwise.db.models import Assignment, Comment, Item, User
from labelwise.errors import InvalidInput, NotFound
from labelwise.services import audit

MAX_TEXT = 5000


@dataclass(frozen=True)
class CommentView:
    id: int
    item_id: int
    author: str
    body: str
    created_at: datetime


def checked_text(value: str, what: str) -> str:
    """What a person wrote, trimmed; refused when empty or longer than MAX_TEXT."""
    value = value.strip()
    if not value:
        raise InvalidInput(f"{what}: must not be empty")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{what}: longer than {MAX_TEXT} characters")
    return value


def item_was_assigned(db: Database, item_id: int, user_id: int) -> bool:
    """Annotators may only see and discuss items that were handed to them."""
    with db.read() as session:
        return bool(
            session.scalar(
                select(exists().where(Assignment.item_id == item_id, Assignment.user_id == user_id))
            )
        )


def add_comment(db: Database, project_id: int, item_id: int, user_id: int, body: str) -> int:
    body = checked_text(body, "body")
    with db.write() as session:
        _project_item(session, project_id, item_id)
        comment = Comment(project_id=project_id, item_id=item_id, user_id=user_id, body=body)
        session.add(comment)
        session.flush()
        audit.record(
            session,
            project_id=project_id,
            actor_id=user_id,
            action="comment.added",
            target_type="item",
            target_id=item_id,
            after={"comment": comment.id, "body": body},
        )
        return comment.id


def comments(db: Database, project_id: int, item_id: int) -> list[CommentView]:
    with db.read() as session:
        _project_item(session, project_id, item_id)
        rows = session.execute(
            select(Comment, User.username)
            .join(User, User.id == Comment.user_id)
            .where(Comment.item_id == item_id)
            .order_by(Comment.id)
        ).all()
    return [CommentView(c.id, c.item_id, who, c.body, c.created_at) for c, who in rows]


def _project_item(session: Session, project_id: int, item_id: int) -> Item:
    item = session.get(Item, item_id)
    if item is None or item.project_id != project_id:
        raise NotFound(f"item {item_id} not found")
    return item
