"""All models, imported here so that ``Base.metadata`` is complete for Alembic."""

from lms.models.audit import AuditEvent
from lms.models.curriculum import (
    AssessmentPhase,
    Module,
    ModuleCompletion,
    ModuleRevision,
    ModuleVisit,
    QuizAttempt,
    Track,
    TrackAssessment,
)
from lms.models.people import (
    EMAIL_MAX,
    NAME_MAX,
    RANK_MAX,
    SCOPED_ROLES,
    AccountToken,
    Category,
    Country,
    Institution,
    InstitutionKind,
    Role,
    RoleGrant,
    Sex,
    User,
)

__all__ = [
    "EMAIL_MAX",
    "NAME_MAX",
    "RANK_MAX",
    "SCOPED_ROLES",
    "AccountToken",
    "AssessmentPhase",
    "AuditEvent",
    "Category",
    "Country",
    "Institution",
    "InstitutionKind",
    "Module",
    "ModuleCompletion",
    "ModuleRevision",
    "ModuleVisit",
    "QuizAttempt",
    "Role",
    "RoleGrant",
    "Sex",
    "Track",
    "TrackAssessment",
    "User",
]
