"""Every model, importable from one place (Alembic and the app load them from here)."""

from .accounts import Role, User, memberships
from .api_tokens import ApiToken
from .audit import ActorKind, AuditEntry
from .base import Base, UTCDateTime
from .campaigns import Campaign, CampaignKind
from .checkins import CheckIn, CheckInMethod
from .event_stats import EventStats
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
    RegistrationSearchTerm,
    RegistrationSource,
    RegistrationStatus,
    new_booking_code,
    normalise_booking_code,
    registration_activities,
)

__all__ = [
    "ACTIVE_STATUSES",
    "Activity",
    "ActivityKind",
    "ActorKind",
    "ApiToken",
    "Attendance",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignKind",
    "CheckIn",
    "CheckInMethod",
    "Event",
    "EventFormat",
    "EventKind",
    "EventStats",
    "EventStatus",
    "EventTargetGroup",
    "Municipality",
    "Organisation",
    "OrganisationKind",
    "OutboxMessage",
    "OutboxStatus",
    "Registration",
    "RegistrationSearchTerm",
    "RegistrationSource",
    "RegistrationStatus",
    "Role",
    "Speaker",
    "SpeakerRole",
    "TargetGroup",
    "UTCDateTime",
    "User",
    "memberships",
    "new_booking_code",
    "normalise_booking_code",
    "registration_activities",
]
