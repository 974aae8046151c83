"""Who may do what: the one authorization layer, called by every route, page and command.

A non-member is told a project does not exist (404), so names of other teams' projects
never leak; a member whose role lacks the action gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from labelwise.errors import Forbidden, NotFound
from labelwise.states import AssignmentKind


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


_READ = {
    Action.VIEW_PROJECT,
    Action.VIEW_MEMBERS,
    Action.LIST_ITEMS,
    Action.EXPORT,
    Action.VIEW_ACTIVITY,
    Action.VIEW_QUALITY,
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
    # The owner answers for what the project releases (PRODUCT.md: roles).
    Role.OWNER: frozenset(_MANAGE | {Action.CREATE_RELEASE}),
    Role.MANAGER: frozenset(_MANAGE),
    Role.REVIEWER: frozenset(_READ | _QC),
    Role.VIEWER: frozenset(_READ),
    # Annotators see items only through their queue, never the whole data set, and
    # discuss only items handed to them (checked row by row in the routes).
    Role.ANNOTATOR: frozenset(
        {Action.VIEW_PROJECT, Action.ANNOTATE, Action.DISCUSS, Action.READ_GUIDELINES}
    ),
}


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
