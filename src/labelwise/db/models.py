"""SQLAlchemy models. Plain tables: behaviour and transactions live in `services`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from labelwise.states import (
    AssignmentKind,
    AssignmentStatus,
    ItemStatus,
    PrelabelOutcome,
    ReviewStatus,
    Verdict,
)

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class JSONText(TypeDecorator[Any]):
    """JSON kept as text, so export can splice stored bytes without parsing them."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else orjson.dumps(value).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else orjson.loads(value)


# Big integer ids on PostgreSQL, plain INTEGER (the rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _one_of(table: str, column: str, state: type[StrEnum]) -> CheckConstraint:
    """The column holds one of the state's values (migration 0010)."""
    values = ", ".join(f"'{member.value}'" for member in state)
    return CheckConstraint(f"{column} IN ({values})", name=f"ck_{table}_{column}")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _now()


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _now()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BrowserSession(Base):
    """Server-side sessions, so a logout or a disabled user takes effect in every process."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """One row per failed login, keyed by username or client address, for rate limiting."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[Any] = mapped_column(JSONText)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class Membership(Base):
    __tablename__ = "memberships"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(255))
    # Set only for items without an external id: they are deduplicated by content.
    content_hash: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[Any] = mapped_column(JSONText)
    status: Mapped[str] = mapped_column(String(20), server_default="new")
    priority: Mapped[float] = mapped_column(server_default=text("0"))
    created_at: Mapped[datetime] = _now()
    # Annotation slots taken: live leases plus submitted work; never above the overlap.
    slots_used: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    # Out of every queue while an escalated question waits for a manager.
    on_hold: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    # The item's answer when a person settled it (adjudication); None: see its annotations.
    final_answers: Mapped[Any] = mapped_column(JSONText, nullable=True)
    # A plain column: SQLite cannot add a foreign key to an existing table in place.
    final_by: Mapped[int | None] = mapped_column(Id)
    # When the item last became done (None while it is not): the dashboard's progress by day.
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the project's PII rule found at import, {field: {kind: count}}; None: nothing.
    pii: Mapped[Any] = mapped_column(JSONText, nullable=True)
    __table_args__ = (
        _one_of("items", "status", ItemStatus),
        # The annotation queue: open items by priority, then import order.
        Index("ix_items_queue", "project_id", "status", priority.desc(), "id"),
        # Keyset pages of one project's items (the items browser, migration 0019).
        Index("ix_items_project_order", "project_id", "id"),
        Index("uq_items_project_external", "project_id", "external_id", unique=True),
        Index(
            "uq_items_project_content",
            "project_id",
            "content_hash",
            unique=True,
            sqlite_where=text("external_id IS NULL"),
            postgresql_where=text("external_id IS NULL"),
        ),
        # The items marked with PII (filtered on by the listing); there are few.
        Index(
            "ix_items_pii",
            "project_id",
            "id",
            sqlite_where=text("pii IS NOT NULL"),
            postgresql_where=text("pii IS NOT NULL"),
        ),
    )


class Annotation(Base):
    """The current answers of one annotator on one item; earlier versions are revisions."""

    __tablename__ = "annotations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    answers: Mapped[Any] = mapped_column(JSONText)
    time_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    revision: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # submitted -> accepted | rejected | corrected, by review
    review_status: Mapped[str] = mapped_column(String(12), server_default="submitted")
    # The project's guideline version in force when this revision was made; None: none yet.
    guideline_version: Mapped[int | None] = mapped_column(Integer)
    # The model whose prediction was shown pre-filled when the first answer was given, what the
    # labeler made of it, and per question {"outcome", "predicted", "labels"} (migration 0011);
    # all None when no suggestion was shown.
    prelabel_model: Mapped[str | None] = mapped_column(String(200))
    prelabel_outcome: Mapped[str | None] = mapped_column(String(10))
    prelabel: Mapped[Any] = mapped_column(JSONText, nullable=True)
    __table_args__ = (
        _one_of("annotations", "review_status", ReviewStatus),
        _one_of("annotations", "prelabel_outcome", PrelabelOutcome),
        Index("uq_annotations_item_user", "item_id", "user_id", unique=True),
        Index("ix_annotations_project_item", "project_id", "item_id", "id"),
        Index("ix_annotations_project_user", "project_id", "user_id"),
    )


class Prediction(Base):
    """A model's answers to an item, shown to labelers as a suggestion: one per (item, model);
    a re-import replaces it with a new row, so the highest id is the latest import."""

    __tablename__ = "predictions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(200))  # name@version
    answers: Mapped[Any] = mapped_column(JSONText)
    # Per question: a confidence in [0, 1], or a label -> probability object.
    scores: Mapped[Any] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[datetime] = _now()
    __table_args__ = (
        Index("uq_predictions_item_model", "item_id", "model", unique=True),
        # The labeling path's one lookup: an item's latest prediction.
        Index("ix_predictions_item_latest", "item_id", "id"),
        Index("ix_predictions_project", "project_id"),
    )


class AnnotationRevision(Base):
    """Every version of an annotation, the current one included, in order."""

    __tablename__ = "annotation_revisions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    answers: Mapped[Any] = mapped_column(JSONText)
    time_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = _now()
    guideline_version: Mapped[int | None] = mapped_column(Integer)
    __table_args__ = (Index("uq_annotation_revisions", "annotation_id", "revision", unique=True),)


class Assignment(Base):
    """A lease of work to one person: annotate an item, review an annotation, adjudicate.

    status: active (leased), submitted, skipped, expired (lease ran out), escalated,
    rework (a rejected annotation handed back to its annotator).
    """

    __tablename__ = "assignments"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # annotate | gold (a qualification or honeypot item, shown as annotate) | review | adjudicate
    kind: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(12))
    annotation_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE")
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    skip_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        _one_of("assignments", "kind", AssignmentKind),
        _one_of("assignments", "status", AssignmentStatus),
        # Nobody labels an item twice, gold items included.
        Index(
            "uq_assignments_annotate",
            "item_id",
            "user_id",
            unique=True,
            sqlite_where=text("kind IN ('annotate', 'gold')"),
            postgresql_where=text("kind IN ('annotate', 'gold')"),
        ),
        Index("ix_assignments_user", "project_id", "user_id", "status"),
        # Active leases only (migration 0009): the held-lease check cannot take it.
        Index(
            "ix_assignments_expiry",
            "project_id",
            "expires_at",
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_assignments_annotation", "annotation_id"),
        Index("ix_assignments_item", "item_id"),
    )


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)  # the annotation revision reviewed
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[str] = mapped_column(String(10))  # accept | reject | correct
    feedback: Mapped[str | None] = mapped_column(Text)
    corrected_answers: Mapped[Any] = mapped_column(JSONText, nullable=True)
    created_at: Mapped[datetime] = _now()
    __table_args__ = (
        _one_of("reviews", "verdict", Verdict),
        Index("ix_reviews_annotation", "annotation_id"),
        Index("ix_reviews_item", "item_id"),
        Index("ix_reviews_outcomes", "project_id", "created_at", "verdict"),  # dashboard
    )


class ReviewStratum(Base):
    """How many finished items of a slice were seen and picked for review (stratified)."""

    __tablename__ = "review_strata"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    stratum: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    selected: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class Escalation(Base):
    """A question an annotator asked about an item; the item waits until a manager answers."""

    __tablename__ = "escalations"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    question: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        Index("ix_escalations_project", "project_id", "answered_at"),
        Index("ix_escalations_item", "item_id"),
    )


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    __table_args__ = (Index("ix_comments_item", "item_id", "id"),)


class GoldAnswer(Base):
    """The known answer to an item (some questions or all), used to test annotators."""

    __tablename__ = "gold_answers"
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    answers: Mapped[Any] = mapped_column(JSONText)
    explanation: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class Qualification(Base):
    """An annotator's qualification test in a project: their first gold items."""

    __tablename__ = "qualifications"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(10), server_default="pending")  # passed|failed
    answered: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    correct: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CheckFinding(Base):
    """A problem an automated check found in the latest run: on an answer, or on a person."""

    __tablename__ = "check_findings"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    check: Mapped[str] = mapped_column(String(40))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    annotation_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    # Items with a finding of a check, in the items browser (migration 0019).
    __table_args__ = (Index("ix_check_findings_item", "item_id", "check"),)


class DashboardCount(Base):
    """A running count the dashboard draws, kept by triggers (migration 0013) in the same
    transaction as the rows it counts: annotations per person and UTC day (kind "day"), per
    person and time on item to two significant figures ("time"), items done per UTC day
    ("done", person 0). Rows counted down to 0 stay."""

    __tablename__ = "dashboard_counts"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    user_id: Mapped[int] = mapped_column(Id, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class DashboardSnapshot(Base):
    """A project's last computed dashboard quality figures (agreement, class balance, gold
    accuracy), as JSON, with the audit-chain position they are true at: a big project's are
    too slow to compute on each page load, so the page shows these and says when."""

    __tablename__ = "dashboard_snapshots"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seconds: Mapped[float] = mapped_column(Float)
    figures: Mapped[str] = mapped_column(Text)


# Some tables live in modules of their own; importing them here registers them on Base.
from labelwise.db import audit_models as _audit_models  # noqa: E402,F401
from labelwise.db import guideline_models as _guideline_models  # noqa: E402,F401
from labelwise.db import release_models as _release_models  # noqa: E402,F401
