"""Who may do what: the one authorization layer, called by every route, page and command.

A non-member is told a project does not exist (404), so names of other teams' projects
never leak; a member whose role lacks the action gets 403.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import orjson

from labelwise.errors import Forbidden, NotFound
from labelwise.states import AssignmentKind

if TYPE_CHECKING:  # the spec imports Role from here
    from labelwise.spec import ProjectSpec


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    REVIEWER = "reviewer"
    ANNOTATOR = "annotator"
    VIEWER = "viewer"


class Action(StrEnum):
    VIEW_PROJECT = "view the project"
    UPDATE_PROJECT = "change the project spec"
    VIEW_MEMBERS = "see the members"
    MANAGE_MEMBERS = "manage members"
    IMPORT_ITEMS = "import items"
    IMPORT_PREDICTIONS = "import model predictions"
    SET_PRIORITIES = "set item priorities"
    LIST_ITEMS = "list items"
    EXPORT = "export the data"
    VIEW_ACTIVITY = "see the activity log"
    VIEW_QUALITY = "see quality reports"
    VIEW_DASHBOARD = "see the project dashboard"
    VIEW_SCORECARDS = "see every annotator's scorecard"
    VIEW_OWN_SCORECARD = "see one's own scorecard"
    ANNOTATE = "label items"
    REVIEW = "review annotations"
    ADJUDICATE = "adjudicate disagreements"
    DISCUSS = "comment on items"
    ANSWER_ESCALATIONS = "answer escalated questions"
    MANAGE_GOLD = "set gold answers"
    RUN_CHECKS = "run the automated checks"
    READ_GUIDELINES = "read and acknowledge the guidelines"
    PUBLISH_GUIDELINES = "publish guidelines and their examples"
    CREATE_RELEASE = "release a dataset version"
    ERASE_ITEMS = "erase items for good"


_READ = {
    Action.VIEW_PROJECT,
    Action.VIEW_MEMBERS,
    Action.LIST_ITEMS,
    Action.EXPORT,
    Action.VIEW_ACTIVITY,
    Action.VIEW_QUALITY,
    Action.VIEW_DASHBOARD,
    Action.VIEW_SCORECARDS,
    Action.VIEW_OWN_SCORECARD,
    Action.READ_GUIDELINES,
}
_QC = {Action.REVIEW, Action.ADJUDICATE, Action.DISCUSS}
_MANAGE = (
    _READ
    | _QC
    | {
        Action.UPDATE_PROJECT,
        Action.MANAGE_MEMBERS,
        Action.IMPORT_ITEMS,
        Action.IMPORT_PREDICTIONS,
        Action.SET_PRIORITIES,
        Action.ANNOTATE,
        Action.ANSWER_ESCALATIONS,
        Action.MANAGE_GOLD,
        Action.RUN_CHECKS,
        Action.PUBLISH_GUIDELINES,
    }
)

ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    # The owner answers for what the project releases (PRODUCT.md: roles), and for a hard
    # delete, which also takes the item out of the releases.
    Role.OWNER: frozenset(_MANAGE | {Action.CREATE_RELEASE, Action.ERASE_ITEMS}),
    Role.MANAGER: frozenset(_MANAGE),
    Role.REVIEWER: frozenset(_READ | _QC),
    Role.VIEWER: frozenset(_READ),
    # Annotators see items only through their queue, never the whole data set, and
    # discuss only items handed to them (checked row by row in the routes).
    Role.ANNOTATOR: frozenset(
        {
            Action.VIEW_PROJECT,
            Action.ANNOTATE,
            Action.DISCUSS,
            Action.READ_GUIDELINES,
            Action.VIEW_OWN_SCORECARD,
        }
    ),
}


def roles_that_may(action: Action) -> tuple[Role, ...]:
    """The roles whose actions include `action`, in Role order."""
    return tuple(role for role in Role if action in ROLE_ACTIONS[role])


# What holding an assignment of each kind lets one do.
ASSIGNMENT_ACTIONS = {
    AssignmentKind.ANNOTATE: Action.ANNOTATE,
    AssignmentKind.GOLD: Action.ANNOTATE,
    AssignmentKind.REVIEW: Action.REVIEW,
    AssignmentKind.ADJUDICATE: Action.ADJUDICATE,
}


@dataclass(frozen=True)
class Actor:
    """The authenticated caller, as the policies need it."""

    user_id: int
    username: str
    is_admin: bool


def can(actor: Actor, action: Action, role: Role | None) -> bool:
    return actor.is_admin or (role is not None and action in ROLE_ACTIONS[role])


def authorize(actor: Actor, action: Action, role: Role | None) -> None:
    """Raise unless `actor`, holding `role` in the project (None: not a member), may act."""
    if actor.is_admin:
        return
    if role is None:
        raise NotFound("project not found")
    if action not in ROLE_ACTIONS[role]:
        raise Forbidden(f"your role ({role}) may not {action}")


def authorize_assignment(
    actor: Actor, assignment_id: int, kind: str, holder: int, role: Role | None
) -> None:
    """Only its holder may act on an assignment, and only while their role allows it.

    Anyone else is told it does not exist, whatever their role in its project. `role` is
    the holder's role in the assignment's project now.
    """
    if holder != actor.user_id:
        raise NotFound(f"assignment {assignment_id} not found")
    authorize(actor, ASSIGNMENT_ACTIONS[AssignmentKind(kind)], role)


def authorize_scorecard(
    actor: Actor, role: Role | None, subject_id: int | None, username: str
) -> None:
    """Whose scorecard one may read: anyone's with VIEW_SCORECARDS, else only one's own.

    Someone else's (or nobody's: `subject_id` None when `username` did no work in the project
    and is not a member) is "not found", so an annotator cannot tell who else works there.
    """
    if role is None and not actor.is_admin:
        raise NotFound("project not found")
    if subject_id is not None and can(actor, Action.VIEW_SCORECARDS, role):
        return
    if subject_id is not None and subject_id == actor.user_id:
        authorize(actor, Action.VIEW_OWN_SCORECARD, role)
        return
    raise NotFound(f"annotator {username} not found")


# Permits: what a route lets a service do for the caller, checked where the service reads the
# rows it needs, inside the unit of work that acts on them. A role taken away meanwhile cannot
# slip between the check and the change, and the check costs no round trip of its own. The
# route decides what is allowed; the service only runs the check.


@dataclass(frozen=True)
class Permit:
    """`action` in the project the service opens."""

    actor: Actor
    action: Action

    def check(self, role: Role | None) -> None:
        authorize(self.actor, self.action, role)


@dataclass(frozen=True)
class HolderPermit:
    """Work on an assignment the caller holds, as far as their role allows its kind."""

    actor: Actor

    def check(self, assignment_id: int, kind: str, holder: int, role: Role | None) -> None:
        authorize_assignment(self.actor, assignment_id, kind, holder, role)


def authorize_admin(actor: Actor, what: str) -> None:
    if not actor.is_admin:
        raise Forbidden(f"only a server admin may {what}")


def authorize_role_change(
    actor: Actor, actor_role: Role | None, current: Role | None, new: Role | None
) -> None:
    """Managers run the team, but only owners (or admins) make or unmake owners."""
    authorize(actor, Action.MANAGE_MEMBERS, actor_role)
    if actor.is_admin or actor_role == Role.OWNER:
        return
    if Role.OWNER in (current, new):
        raise Forbidden("only an owner may grant or remove the owner role")


# Fields hidden from roles (spec `fields[].visible_to`). Everything that sends item data or
# the project's fields to a person goes through their FieldView: one rule, one place.


class _Named(Protocol):
    @property
    def name(self) -> str: ...


F = TypeVar("F", bound=_Named)


@dataclass(frozen=True)
class FieldView:
    """The item fields one reader may not see; everything else of an item is shown as is.

    `role` is whose view it is, so that it extends to another version of the spec (a
    release's frozen one); None for a server admin, or for a view shared by several roles.
    """

    hidden: frozenset[str] = frozenset()
    role: Role | None = None

    def shows(self, name: str) -> bool:
        return name not in self.hidden

    def data(self, data: dict[str, Any]) -> dict[str, Any]:
        """An item's data without the hidden fields: the one place they are taken out."""
        if not self.hidden:
            return data
        return {key: value for key, value in data.items() if key not in self.hidden}

    def data_json(self, text: str) -> str:
        """Stored JSON text of an item's data, the same text when nothing is hidden."""
        if not self.hidden:
            return text
        return orjson.dumps(self.data(orjson.loads(text)), option=orjson.OPT_SORT_KEYS).decode()

    def fields(self, fields: Sequence[F]) -> list[F]:
        """The spec's fields (FieldSpec) this reader sees, in order."""
        return [field for field in fields if self.shows(field.name)]

    def spec(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """A spec (stored JSON) as this reader gets it: without the fields hidden from them,
        now or by that spec itself (an older version, as the activity log keeps it)."""
        fields = [field for field in spec["fields"] if self._shows_entry(field)]
        return {**spec, "fields": fields}

    def _shows_entry(self, field: Mapping[str, Any]) -> bool:
        roles = field.get("visible_to")
        mine = self.role is None or roles is None or self.role in roles
        return mine and self.shows(field["name"])

    def including(self, spec: ProjectSpec) -> FieldView:
        """This reader's view of data made under `spec` too (a release's frozen spec)."""
        if self.role is None:
            return self
        return FieldView(self.hidden | hidden_from(spec, self.role), self.role)


EVERYTHING = FieldView()


def hidden_from(spec: ProjectSpec, role: Role | None) -> frozenset[str]:
    """The fields `role` may not see; None (no role at all) sees no restricted field."""
    return frozenset(
        field.name
        for field in spec.fields
        if field.visible_to is not None and role not in field.visible_to
    )


def field_view(actor: Actor, role: Role | None, spec: ProjectSpec) -> FieldView:
    """What of the project's items `actor`, holding `role` there, may see; admins see all."""
    if actor.is_admin:
        return EVERYTHING
    return FieldView(hidden_from(spec, role), role)


def shared_view(spec: ProjectSpec, action: Action) -> FieldView:
    """What every role allowed `action` may see: for what is made once and read by all of
    them alike (a release's dataset card)."""
    hidden: frozenset[str] = frozenset()
    for role in roles_that_may(action):
        hidden |= hidden_from(spec, role)
    return FieldView(hidden)
