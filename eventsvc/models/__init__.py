"""Every model, importable from one place (Alembic and the app load them from here)."""
from .accounts import Role, User, memberships
from .api_tokens import ApiToken
from .audit import ActorKind, AuditEntry
from .checkins import CheckIn, CheckInMethod
from .event_stats import EventStats
from .base import Base, UTCDateTime
from .campaigns import Campaign, CampaignKind
from .events import (
    Activity,
    ActivityKind,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    EventTargetGroup,
    Speaker,
    SpeakerRole,
    TargetGroup,
)
from .organisations import Municipality, Organisation, OrganisationKind
from .outbox import OutboxMessage, OutboxStatus
from .registrations import (
    ACTIVE_STATUSES,
    Attendance,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    registration_activities,
)

__all__ = [
    "ACTIVE_STATUSES", "ActorKind", "ApiToken", "AuditEntry", "EventStats", "CheckIn", "CheckInMethod", "OutboxMessage", "OutboxStatus", "Activity", "Attendance", "RegistrationSource", "registration_activities", "ActivityKind", "Base", "Campaign", "CampaignKind", "Event",
    "EventFormat", "EventKind", "EventStatus", "EventTargetGroup", "Municipality", "Organisation",
    "OrganisationKind", "Registration", "RegistrationStatus", "Role", "Speaker", "SpeakerRole",
    "TargetGroup", "UTCDateTime", "User", "memberships",
]
