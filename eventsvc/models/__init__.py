"""Every model, importable from one place (Alembic and the app load them from here)."""

from .accounts import Role, User, memberships
from .api_tokens import ApiToken
from .audit import ActorKind, AuditEntry
from .base import Base, UTCDateTime
from .campaigns import Campaign, CampaignKind
from .certificates import Certificate
from .checkins import CheckIn, CheckInMethod
from .event_stats import EventStats
from .events import (
    BASE_TEXT_LANGUAGE,
    TEXT_LANGUAGES,
    Activity,
    ActivityKind,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    EventTargetGroup,
    LocalText,
    Speaker,
    SpeakerRole,
    TargetGroup,
    translation_columns,
)
from .feedback import FeedbackAnswer, FeedbackInvitation
from .organisations import Municipality, Organisation, OrganisationKind
from .outbox import OutboxMessage, OutboxStatus
from .phone_calls import CallReason, PhoneCall
from .registrations import (
    ACTIVE_STATUSES,
    ActivityWait,
    Attendance,
    FollowUpOutcome,
    Registration,
    RegistrationSearchTerm,
    RegistrationSource,
    RegistrationStatus,
    new_booking_code,
    normalise_booking_code,
    registration_activities,
)
from .sessions import UserSession

__all__ = [
    "ACTIVE_STATUSES",
    "BASE_TEXT_LANGUAGE",
    "TEXT_LANGUAGES",
    "Activity",
    "ActivityKind",
    "ActivityWait",
    "ActorKind",
    "ApiToken",
    "Attendance",
    "AuditEntry",
    "Base",
    "CallReason",
    "Campaign",
    "CampaignKind",
    "Certificate",
    "CheckIn",
    "CheckInMethod",
    "Event",
    "EventFormat",
    "EventKind",
    "EventStats",
    "EventStatus",
    "EventTargetGroup",
    "FeedbackAnswer",
    "FeedbackInvitation",
    "FollowUpOutcome",
    "LocalText",
    "Municipality",
    "Organisation",
    "OrganisationKind",
    "OutboxMessage",
    "OutboxStatus",
    "PhoneCall",
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
    "UserSession",
    "memberships",
    "new_booking_code",
    "normalise_booking_code",
    "registration_activities",
    "translation_columns",
]
