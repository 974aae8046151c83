"""Version 1 of the REST API, mounted under /api/v1."""

from fastapi import APIRouter

from labelwise.api.v1 import (
    activity,
    checks,
    dashboard,
    discussion,
    erasure,
    files,
    gold,
    guidelines,
    items,
    predictions,
    projects,
    quality,
    releases,
    scorecards,
    workflow,
)

router = APIRouter(prefix="/api/v1")
router.include_router(projects.router)
router.include_router(items.router)
router.include_router(predictions.router)
router.include_router(workflow.router)
router.include_router(discussion.router)
router.include_router(files.router)
router.include_router(gold.router)
router.include_router(checks.router)
router.include_router(activity.router)
router.include_router(quality.router)
router.include_router(dashboard.router)
router.include_router(scorecards.router)
router.include_router(guidelines.router)
router.include_router(releases.router)
router.include_router(erasure.router)
