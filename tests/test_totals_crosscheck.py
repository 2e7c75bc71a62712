"""An independent cross-check of the totals: random histories of registrations, changes, the
door, format changes, time passing and the retention purge, all through the services, and
after every step every total in every grouping compared with a recount from the rows (the
registrations and the check-ins themselves, not the counters the totals are summed from).

Runs on SQLite, and on PostgreSQL when EVENTSVC_TEST_DATABASE_URL is set. Kept small
(MAX_EXAMPLES histories of at most STEPS steps) so that the suite stays within its time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Attendance,
    AuditEntry,
    CheckIn,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    FollowUpOutcome,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    TargetGroup,
)
from eventsvc.services import ServiceError, follow_up, measures, privacy, stats
from eventsvc.services import checkin as door
from eventsvc.services import events as event_service
from eventsvc.services import registration as rules
from eventsvc.services.stats import GroupBy, StatsFilter, Totals
from eventsvc.timezones import utcnow

from . import conftest, factories

MAX_EXAMPLES = 8
STEPS = 20
INDEX = st.integers(min_value=0, max_value=50)
SIZE = st.integers(min_value=1, max_value=4)


class Histories(RuleBasedStateMachine):
    app = None  # set by the test

    def __init__(self):
        super().__init__()
        _db.session.remove()
        conftest._empty_all_tables()
        self.now = utcnow().replace(microsecond=0)
        self.world = factories.world(self.now)
        w = self.world
        self.events = [
            factories.event(
                w.org_a,
                self.now + timedelta(days=1),
                title="Tukuma diskusija",
                capacity=6,
                campaign=w.campaign,
                target_groups=[TargetGroup.SENIORS, TargetGroup.EVERYONE],
            ),
            factories.event(
                w.org_b,
                self.now + timedelta(days=2),
                title="Daugavpils apmācības",
                kind=EventKind.TRAINING,
                capacity=4,
                format=EventFormat.HYBRID,
                stream_url="https://video.example.lv/d",
            ),
            factories.event(
                w.org_a,
                self.now + timedelta(days=40),
                title="Tukuma svētki",
                kind=EventKind.FESTIVAL,
                capacity=5,
                format=EventFormat.ONLINE,
                stream_url="https://video.example.lv/t",
                target_groups=[TargetGroup.FAMILIES_DISABILITY],
            ),
        ]
        self.event_ids = [e.id for e in self.events]

    # --- helpers ---------------------------------------------------------------------

    def _event(self, index: int) -> Event:
        return _db.session.get(Event, self.event_ids[index % len(self.event_ids)])

    def _pick(self, model, index: int, *where):
        ids = list(_db.session.scalars(select(model.id).where(*where).order_by(model.id)))
        return _db.session.get(model, ids[index % len(ids)]) if ids else None

    def _do(self, action) -> None:
        """One step as a request or command runs it: commit, or roll back on a refusal."""
        try:
            action()
        except ServiceError:
            _db.session.rollback()
        else:
            _db.session.commit()
        _db.session.expire_all()

    @property
    def organiser(self):
        return self.world.organiser_a

    # --- what people and staff do ----------------------------------------------------

    @rule(event=INDEX, size=SIZE, online=st.booleans(), wait=st.booleans(), agree=st.booleans())
    def register(self, event, size, online, wait, agree):
        target = self._event(event)
        request = factories.registration_request(
            party_size=size,
            attendance=Attendance.ONLINE if online else Attendance.IN_PERSON,
            join_waitlist=wait,
            follow_up_consent=agree,
        )
        self._do(lambda: rules.register(target.id, request, self.now))

    @rule(index=INDEX, size=SIZE)
    def change_party_size(self, index, size):
        registration = self._pick(Registration, index)
        if registration is not None:
            self._do(lambda: rules.change_party_size(registration, size, self.now, self.organiser))

    @rule(index=INDEX, online=st.booleans())
    def change_attendance(self, index, online):
        registration = self._pick(Registration, index)
        wanted = Attendance.ONLINE if online else Attendance.IN_PERSON
        if registration is not None:
            self._do(
                lambda: rules.change_attendance(registration, wanted, self.now, self.organiser)
            )

    @rule(index=INDEX)
    def cancel(self, index):
        registration = self._pick(Registration, index)
        if registration is not None:
            self._do(lambda: rules.cancel_registration(registration, self.now, self.organiser))

    @rule(event=INDEX)
    def promote(self, event):
        target = self._event(event)
        self._do(lambda: rules.promote_waitlist(target.id, self.now))

    @rule(event=INDEX, new_format=st.sampled_from(list(EventFormat)))
    def change_format(self, event, new_format):
        target = self._event(event)
        data = event_service.EventData.from_event(target)
        data.format = new_format
        self._do(lambda: event_service.update_event(self.organiser, target, data, self.now))

    @rule(index=INDEX, people=st.one_of(st.none(), st.integers(min_value=1, max_value=3)))
    def check_in(self, index, people):
        registration = self._pick(Registration, index)
        if registration is not None:
            event = registration.event
            self._do(
                lambda: door.check_in_registration(
                    event, registration.id, self.organiser, self.now, people=people
                )
            )

    @rule(index=INDEX)
    def undo(self, index):
        checkin = self._pick(CheckIn, index, CheckIn.undone_at.is_(None))
        if checkin is not None:
            event = _db.session.get(Event, checkin.event_id)
            self._do(lambda: door.undo_checkin(event, checkin.id, self.organiser, self.now))

    @rule(event=INDEX, people=st.integers(min_value=1, max_value=3))
    def walk_in(self, event, people):
        target = self._event(event)
        self._do(
            lambda: door.register_walk_in(target, "Ienācējs", people, self.organiser, self.now)
        )

    @rule(index=INDEX, reached=st.booleans())
    def follow_up_call(self, index, reached):
        # Someone who agreed and was not let in, called once their event has ended (the time
        # passes to then if it must).
        registration = self._pick(Registration, index, follow_up.ON_THE_LIST)
        if registration is not None:
            self.now = max(self.now, registration.event.ends_at + timedelta(minutes=1))
            outcome = FollowUpOutcome.REACHED if reached else None
            self._do(
                lambda: follow_up.mark_called(
                    self.world.admin, registration.event_id, registration.id, outcome, self.now
                )
            )

    @rule(hours=st.sampled_from([1, 6, 30, 24 * 20]))
    def time_passes(self, hours):
        self.now += timedelta(hours=hours)

    @rule()
    def purge(self):
        privacy.purge(self.now, 0)  # commits its own batches
        _db.session.expire_all()

    # --- the cross-check -------------------------------------------------------------

    def recount(self) -> dict[str, dict[str, Totals]]:
        """Every grouping's totals, counted in Python from the rows by the definitions of
        services/measures.py."""
        let_in = dict(
            _db.session.execute(
                select(CheckIn.registration_id, func.sum(CheckIn.people))
                .where(CheckIn.undone_at.is_(None))
                .group_by(CheckIn.registration_id)
            ).all()
        )
        per_event: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        # Calls made after an event, from the audit log (each call is an entry; the log keeps
        # them when the registrations are anonymised).
        for event_id, calls in _db.session.execute(
            select(AuditEntry.event_id, func.count(AuditEntry.id))
            .where(AuditEntry.action == "registration.follow_up_call")
            .group_by(AuditEntry.event_id)
        ):
            per_event[event_id]["follow_up_calls"] = calls
        for r in _db.session.scalars(select(Registration)):
            counts = per_event[r.event_id]
            came = int(let_in.get(r.id, 0))
            registered = (
                r.status is RegistrationStatus.CONFIRMED
                and r.source is not RegistrationSource.WALK_IN
            )
            in_person = registered and r.attendance is Attendance.IN_PERSON
            counts["people_checked_in"] += came
            if r.source is RegistrationSource.WALK_IN:
                counts["walk_ins"] += came
            if registered:
                counts["registrations"] += 1
                counts["people_registered"] += r.party_size
                counts["checked_in_registered"] += came
                counts["people_online"] += r.party_size if not in_person else 0
            if in_person:
                counts["people_in_person"] += r.party_size
                counts["came_in_person"] += came
            if r.status is RegistrationStatus.WAITLISTED:
                counts["waiting"] += r.party_size
        groups: dict[str, dict[str, dict[str, int]]] = {g.value: {} for g in GroupBy}
        headline: dict[str, int] = defaultdict(int)
        for event in _db.session.scalars(
            select(Event).where(Event.status == EventStatus.PUBLISHED)
        ):
            c = per_event[event.id]
            ended = event.ends_at <= self.now
            values = {
                "events": 1,
                "ended_events": int(ended),
                "upcoming_events": int(not ended),
                "upcoming_people_registered": 0 if ended else c["people_registered"],
                "no_shows": c["people_in_person"] - c["came_in_person"] if ended else 0,
                "waitlisted_never_placed": c["waiting"] if ended else 0,
                "people_in_person_ended": c["people_in_person"] if ended else 0,
                **{
                    name: c[name]
                    for name in (
                        "registrations",
                        "people_registered",
                        "people_in_person",
                        "people_online",
                        "people_checked_in",
                        "checked_in_registered",
                        "walk_ins",
                        "follow_up_calls",
                    )
                },
            }
            keys = {
                GroupBy.MUNICIPALITY.value: [str(event.municipality_id)],
                GroupBy.CAMPAIGN.value: [str(event.campaign_id or 0)],
                GroupBy.KIND.value: [event.kind.value],
                GroupBy.TARGET_GROUP.value: [g.value for g in event.target_groups],
                GroupBy.MONTH.value: [event.local_month],
            }
            for group, group_keys in keys.items():
                for key in group_keys:
                    bucket = groups[group].setdefault(key, defaultdict(int))
                    for name, value in values.items():
                        bucket[name] += value
            for name, value in values.items():
                headline[name] += value
        result = {g: {k: Totals(**v) for k, v in keyed.items()} for g, keyed in groups.items()}
        result["headline"] = {"": Totals(**headline)}
        return result

    @invariant()
    def totals_agree_with_a_recount(self):
        expected = self.recount()
        with self.app.test_request_context("/"):
            got = {
                group.value: {
                    row.key: row.totals
                    for row in stats.breakdown(group, StatsFilter(), None, self.now)
                }
                for group in GroupBy
            }
        got["headline"] = {"": stats.headline(StatsFilter(), None, self.now)}
        for group, rows in expected.items():
            assert got[group] == rows, (group, _differences(got[group], rows))
        for totals in (t for rows in got.values() for t in rows.values()):
            assert totals.no_shows >= 0
            rate = totals.attendance_rate
            assert rate is None or 0 <= rate <= 1
            assert (rate is None) == (not totals.people_in_person_ended)

    @invariant()
    def places_agree_everywhere(self):
        _db.session.expire_all()
        assert stats.counter_drift() == {}
        people = measures.event_people(self.event_ids)
        for event_id in self.event_ids:
            event = _db.session.get(Event, event_id)
            confirmed = select(func.coalesce(func.sum(Registration.party_size), 0)).where(
                Registration.event_id == event_id,
                Registration.status == RegistrationStatus.CONFIRMED,
            )
            in_person = _db.session.scalar(
                confirmed.where(Registration.attendance == Attendance.IN_PERSON)
            )
            everyone = _db.session.scalar(confirmed)
            taken = everyone if event.format is EventFormat.ONLINE else in_person
            assert people[event_id].places_taken == taken
            assert rules.availability(event).confirmed_people == taken
            assert door.door_counts(event).confirmed_people == taken


def _differences(got: dict, expected: dict) -> dict:
    out = {}
    for key in got.keys() | expected.keys():
        a, b = got.get(key), expected.get(key)
        if a != b:
            out[key] = (
                {f.name: (getattr(a, f.name), getattr(b, f.name)) for f in fields(Totals)}
                if a and b
                else (a, b)
            )
    return out


def test_every_total_agrees_with_a_recount_from_the_rows(app, db):
    Histories.app = app
    run_state_machine_as_test(
        Histories,
        settings=settings(
            max_examples=MAX_EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_a_party_cannot_shrink_below_the_people_already_let_in(db, world, now):
    """Found while writing the cross-check: 3 let in, then the party "shrank" to 1, and the
    no-shows of the event read -2."""
    import pytest

    from eventsvc.services import ValidationFailed

    event = factories.event(world.org_a, now + timedelta(days=1))
    registration = rules.register(
        event.id, factories.registration_request(party_size=3), now
    ).registration
    door.check_in_registration(event, registration.id, world.organiser_a, now, people=2)
    _db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        rules.change_party_size(registration, 1, now, world.organiser_a)
    assert "party_size" in refused.value.errors
    _db.session.rollback()
    rules.change_party_size(registration, 2, now, world.organiser_a)
    _db.session.commit()
    assert registration.party_size == 2
