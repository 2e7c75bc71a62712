"""The privacy notice's version. Each registration keeps the version its resident agreed to, so
a later change of the notice never rewrites what an earlier resident consented to.

When templates/public/privacy.html changes in substance, set a new date here (and keep the old
text in the repository's history): new registrations then record the new version.
"""

from __future__ import annotations

from datetime import date

# 2026-11-28: the optional follow-up call after an event (services/follow_up.py).
PRIVACY_NOTICE_DATE = date(2026, 11, 28)
PRIVACY_NOTICE_VERSION = PRIVACY_NOTICE_DATE.isoformat()
