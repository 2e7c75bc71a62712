"""Demo data from the source documents (../shared/seeds): real places, people and events,
dated relative to today so that registration is open when a newcomer looks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    ActivityKind,
    Attendance,
    Campaign,
    CampaignKind,
    Event,
    EventFormat,
    EventKind,
    FollowUpOutcome,
    Municipality,
    Organisation,
    OrganisationKind,
    Registration,
    Role,
    SpeakerRole,
    TargetGroup,
    User,
)
from ..needs import Need
from ..timezones import end_of_riga_day, riga_local_to_utc, to_riga
from .accounts import create_user
from .events import (
    ActivityData,
    EventData,
    SpeakerData,
    create_event,
    publish_event,
    save_activity,
    save_speaker,
)

DEMO_PASSWORD = "demo-parole-2026"

MUNICIPALITIES = [
    ("Cēsu novads", "cesis"),
    ("Tukuma novads", "tukums"),
    ("Bauskas novads", "bauska"),
    ("Rēzeknes novads", "rezekne"),
    ("Ādažu novads", "adazi"),
    ("Daugavpils valstspilsēta", "daugavpils"),
    ("Rīgas valstspilsēta", "riga"),
    ("Preiļu novads", "preili"),
    ("Kokneses novads", "koknese"),
]

# (name, slug, kind, municipality slug)
ORGANISATIONS = [
    ("Labklājības ministrija", "lm", OrganisationKind.MINISTRY, "riga"),
    ("Cēsu novada Sociālais dienests", "cesis-sd", OrganisationKind.SOCIAL_SERVICE, "cesis"),
    ("Tukuma novada Sociālais dienests", "tukums-sd", OrganisationKind.SOCIAL_SERVICE, "tukums"),
    ("Bauskas novada Sociālais dienests", "bauska-sd", OrganisationKind.SOCIAL_SERVICE, "bauska"),
    (
        "Rēzeknes novada Sociālais dienests",
        "rezekne-sd",
        OrganisationKind.SOCIAL_SERVICE,
        "rezekne",
    ),
    ("Ādažu novada Sociālais dienests", "adazi-sd", OrganisationKind.SOCIAL_SERVICE, "adazi"),
    (
        "Daugavpils pilsētas Sociālais dienests",
        "daugavpils-sd",
        OrganisationKind.SOCIAL_SERVICE,
        "daugavpils",
    ),
    ("Rīgas Sociālais dienests", "riga-sd", OrganisationKind.SOCIAL_SERVICE, "riga"),
    ("Preiļu novada Labklājības pārvalde", "preili-lp", OrganisationKind.SOCIAL_SERVICE, "preili"),
    (
        "Kokneses novada Sociālais dienests",
        "koknese-sd",
        OrganisationKind.SOCIAL_SERVICE,
        "koknese",
    ),
]

TUME_PANEL = [
    (
        "Linda Medne",
        "Latvijas Lauku foruma projektu vadītāja, padomes priekšsēdētāja",
        "biedrība “Latvijas Mazpulki”",
        SpeakerRole.MODERATOR,
    ),
    ("Inga Priede", "domes priekšsēdētāja vietniece", "Tukuma novada dome", SpeakerRole.PANELLIST),
    (
        "Ina Balgalve",
        "Sociālā dienesta vadītāja",
        "Tukuma novada Sociālais dienests",
        SpeakerRole.PANELLIST,
    ),
    (
        "Ārija Martukāne",
        "valdes priekšsēdētāja",
        "biedrība “Profesionālo audžuģimeņu apvienība Terēze”",
        SpeakerRole.PANELLIST,
    ),
    (
        "Inese Šubēvica",
        "kopienu veidotāja, mācību vadītāja un mentore",
        "projekts “Profesionāla sociālā darba attīstība pašvaldībās”",
        SpeakerRole.PANELLIST,
    ),
    ("Aivars Damroze", "pansionāta vadītājs", "Gatartas pansionāts", SpeakerRole.PANELLIST),
    (
        "Liesma Ose",
        "vecākā eksperte",
        "Labklājības ministrijas projekts “Profesionāla un mūsdienīga sociālā darba attīstība”",
        SpeakerRole.PANELLIST,
    ),
]

# The panel's job titles in Russian and English, by name.
TUME_PANEL_TITLES = {
    "Linda Medne": (
        "руководитель проектов Латвийского сельского форума, председатель совета",
        "project manager at the Latvian Rural Forum, chair of the board",
    ),
    "Inga Priede": ("заместитель председателя думы", "deputy chair of the municipal council"),
    "Ina Balgalve": ("руководитель Социальной службы", "head of the Social Service"),
    "Ārija Martukāne": ("председатель правления", "chair of the board"),
    "Inese Šubēvica": (
        "организатор общин, руководитель обучения и наставник",
        "community builder, trainer and mentor",
    ),
    "Aivars Damroze": ("директор пансионата", "director of the care home"),
    "Liesma Ose": ("старший эксперт", "senior expert"),
}

# The Križi festival's activities in Russian and English, by their Latvian titles.
FESTIVAL_ACTIVITY_TITLES = {
    "Ziemassvētku kartīšu darbnīca": (
        "Мастерская рождественских открыток",
        "Christmas card workshop",
    ),
    "Eglīšu rotājumu darbnīca": (
        "Мастерская ёлочных украшений",
        "Christmas tree decoration workshop",
    ),
    "Cigun nodarbība senioriem": ("Цигун для пожилых", "Qigong for seniors"),
    "Viktorīna “Mana Daugavpils”": ("Викторина «Мой Даугавпилс»", "Quiz: “My Daugavpils”"),
    "Koncerts: kolektīvs “Dialogs”": (
        "Концерт ансамбля «Диалог»",
        "Concert by the “Dialogs” ensemble",
    ),
}


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    role: Role
    organisation: str


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count(Event.id))) and not db.session.scalar(
        select(func.count(User.id))
    )


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return riga_local_to_utc(datetime.combine(day, time(hour, minute)))


def _next_weekday(after: date, weekday: int, min_days: int) -> date:
    day = after + timedelta(days=min_days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _third_tuesday_of_march(after: date) -> date:
    for year in (after.year, after.year + 1):
        first = date(year, 3, 1)
        day = first + timedelta(days=(1 - first.weekday()) % 7 + 14)
        if day > after:
            return day
    raise AssertionError("unreachable")


def load_demo(now: datetime) -> list[DemoAccount]:
    """Fill an empty database; returns the accounts it created (to print their logins)."""
    today = to_riga(now).date()
    municipalities = {slug: Municipality(name=name, slug=slug) for name, slug in MUNICIPALITIES}
    db.session.add_all(municipalities.values())
    # Public contacts residents call: made-up demo numbers and addresses, no real office's.
    orgs = {
        slug: Organisation(
            name=name,
            slug=slug,
            kind=kind,
            municipality=municipalities[m],
            phone=f"+371 6000 {number:04d}",
            email=f"info.{slug}@demo.eventsvc.lv",
        )
        for number, (name, slug, kind, m) in enumerate(ORGANISATIONS, start=1)
    }
    db.session.add_all(orgs.values())
    db.session.flush()

    accounts: list[DemoAccount] = []
    organisers: dict[str, User] = {}
    for slug, org in orgs.items():
        email = f"{slug}@demo.eventsvc.lv"
        organisers[slug] = create_user(
            email, f"{org.name} (organizators)", Role.ORGANISER, DEMO_PASSWORD, [org]
        )
        accounts.append(DemoAccount(email, DEMO_PASSWORD, Role.ORGANISER, org.name))
    create_user(
        "ministrija@demo.eventsvc.lv",
        "Labklājības ministrija (kopsummas)",
        Role.MINISTRY,
        DEMO_PASSWORD,
    )
    accounts.append(DemoAccount("ministrija@demo.eventsvc.lv", DEMO_PASSWORD, Role.MINISTRY, ""))
    create_user("admin@demo.eventsvc.lv", "Administrators", Role.ADMIN, DEMO_PASSWORD)
    accounts.append(DemoAccount("admin@demo.eventsvc.lv", DEMO_PASSWORD, Role.ADMIN, ""))
    # A volunteer at the door of the Križi courtyard festival: check-in only.
    door_org = orgs["daugavpils-sd"]
    create_user(
        "durvis@demo.eventsvc.lv", "Brīvprātīgā pie ieejas", Role.DOOR, DEMO_PASSWORD, [door_org]
    )
    accounts.append(DemoAccount("durvis@demo.eventsvc.lv", DEMO_PASSWORD, Role.DOOR, door_org.name))

    campaign = Campaign(
        name="Savējais savējiem!",
        kind=CampaignKind.CAMPAIGN,
        description="Labklājības ministrijas informatīvā kampaņa par sociālo darbu kopienā.",
        organisation=orgs["lm"],
    )
    pilot = Campaign(
        name="Sociālais darbs kopienā",
        kind=CampaignKind.PILOT,
        project_number="9.2.1.1/15/I/001",
        description="Metodikas “Sociālais darbs kopienā” aprobācija septiņās pašvaldībās.",
        starts_on=date(2022, 9, 1),
        ends_on=date(2023, 5, 31),
        organisation=orgs["lm"],
    )
    addiction_pilot = Campaign(
        name="Sociālais darbs ar atkarīgām un līdzatkarīgām personām",
        kind=CampaignKind.PILOT,
        project_number="9.2.1.1/15/I/001",
        description="Metodikas izstrāde sociālajam darbam ar atkarīgām un līdzatkarīgām personām.",
        organisation=orgs["lm"],
    )
    db.session.add_all([campaign, pilot, addiction_pilot])
    db.session.flush()

    def publish(slug: str, data: EventData) -> Event:
        event = create_event(organisers[slug], data)
        publish_event(organisers[slug], event, now)
        return event

    # Tume: the campaign's closing panel discussion, on a Thursday, deadline the day before.
    tume_day = _next_weekday(today, 3, 8)
    tume = create_event(
        organisers["lm"],
        EventData(
            kind=EventKind.DISCUSSION,
            title="Sociālais darbs kopienā – kā kopā iet tālāk",
            summary="Kampaņas “Savējais savējiem!” noslēguma diskusija par sociālā darba kopienā pieredzi un nākotni.",
            description=(
                "Kādas ir galvenās atziņas, īstenojot kopienas sociālo darbu Latvijas pašvaldībās, kāda bijusi "
                "iedzīvotāju un vietvaru atsaucība un kā vērtīgo pilotprojekta pieredzi likt lietā nākotnē? "
                "Diskusijā atskatīsimies uz pilotprojekta ieviešanas pieredzi septiņās pašvaldībās, lielākajiem "
                "izaicinājumiem un iespējām, un centīsimies definēt spēcīgu kopienu galvenos ieguvumus "
                "pašvaldībām un iedzīvotājiem.\n\n"
                "Diskusijas norisi tiešsaistē varēs vērot arī Labklājības ministrijas Facebook kontā."
            ),
            organisation_id=orgs["lm"].id,
            municipality_id=municipalities["tukums"].id,
            campaign_id=campaign.id,
            venue_name="Tumes kultūras nams",
            venue_address="Pasta iela 1A, Tume, Tukuma novads",
            starts_at=_at(tume_day, 13),
            ends_at=_at(tume_day, 15),
            desk_opens_at=_at(tume_day, 12, 30),
            registration_closes_at=end_of_riga_day(tume_day - timedelta(days=1)),
            capacity=80,
            format=EventFormat.HYBRID,
            stream_url="https://www.facebook.com/Labklajibas.ministrija",
            stream_public=True,  # a Facebook live anyone may watch
            accessibility="Kultūras namā ir uzbrauktuve un pielāgota tualete. Diskusiju var skatīties arī tiešsaistē.",
            target_groups=[TargetGroup.PROFESSIONALS, TargetGroup.EVERYONE],
            title_ru="Социальная работа в общине: как идти дальше вместе",
            title_en="Community social work: how we go on together",
            summary_ru="Заключительная дискуссия кампании «Savējais savējiem!» («Свои — своим!») об опыте и будущем социальной работы в общине.",
            summary_en="The closing discussion of the “Savējais savējiem!” (“Our own for our own”) campaign on what community social work has taught us and where it goes next.",
            description_ru=(
                "Каковы главные выводы из опыта социальной работы в общинах латвийских самоуправлений? "
                "Как откликнулись жители и местная власть и как применить ценный опыт пилотного проекта "
                "в будущем? В дискуссии мы оглянемся на то, как пилотный проект внедрялся в семи "
                "самоуправлениях, на его главные трудности и возможности, и попробуем сформулировать, "
                "что сильные общины дают самоуправлениям и жителям.\n\n"
                "Трансляцию дискуссии можно будет смотреть и на странице Министерства благосостояния в Facebook."
            ),
            description_en=(
                "What are the main lessons from community social work in Latvia's municipalities? How did "
                "residents and local authorities respond, and how can the pilot project's valuable "
                "experience be put to use in the future? We will look back at how the pilot was carried "
                "out in seven municipalities, at its biggest challenges and opportunities, and try to "
                "name what strong communities bring to municipalities and their residents.\n\n"
                "The discussion will also be streamed live on the Ministry of Welfare's Facebook page."
            ),
            accessibility_ru="В доме культуры есть пандус и приспособленный туалет. Дискуссию можно смотреть и онлайн.",
            accessibility_en="The culture house has a ramp and an accessible toilet. You can also watch the discussion online.",
        ),
    )
    for position, (name, title, organisation, role) in enumerate(TUME_PANEL, start=1):
        title_ru, title_en = TUME_PANEL_TITLES[name]
        save_speaker(
            organisers["lm"],
            tume,
            SpeakerData(name, title, organisation, role, position, title_ru, title_en),
        )
    publish_event(organisers["lm"], tume, now)

    # Daugavpils: the Križi courtyard festival for all generations, on a Saturday.
    fest_day = _next_weekday(today, 5, 18)
    festival = create_event(
        organisers["daugavpils-sd"],
        EventData(
            kind=EventKind.FESTIVAL,
            title="Križu apkaimes pagalma svētki",
            summary="Visu paaudžu svētki Križu apkaimē: radošās darbnīcas, konkursi un koncerts.",
            description=(
                "Pilotprojekta “Sociālais darbs kopienā” noslēgumā aicinām visus Križu apkaimes iedzīvotājus – "
                "seniorus, ģimenes ar bērniem un kaimiņus – uz pagalma svētkiem. Radošajās darbnīcās vietu skaits "
                "ir ierobežots, tāpēc lūdzam reģistrēties. Uz svētkiem aicināti arī Daugavpils pilsētas domes deputāti."
            ),
            organisation_id=orgs["daugavpils-sd"].id,
            municipality_id=municipalities["daugavpils"].id,
            campaign_id=pilot.id,
            venue_name="Križu apkaimes pagalms",
            venue_address="Križi, Daugavpils",
            starts_at=_at(fest_day, 12),
            ends_at=_at(fest_day, 18),
            registration_closes_at=end_of_riga_day(fest_day - timedelta(days=2)),
            capacity=200,
            accessibility="Pasākums notiek ārā, uz līdzena seguma. Pieejami soliņi atpūtai.",
            language="lv",
            target_groups=[
                TargetGroup.EVERYONE,
                TargetGroup.SENIORS,
                TargetGroup.FAMILIES_DISABILITY,
            ],
            title_ru="Праздник двора в Крыжах",
            title_en="Križi neighbourhood courtyard festival",
            summary_ru="Праздник для всех поколений в Крыжах: творческие мастерские, конкурсы и концерт.",
            summary_en="A festival for all generations in Križi: craft workshops, contests and a concert.",
            description_ru=(
                "В завершение пилотного проекта «Социальная работа в общине» приглашаем всех жителей "
                "Крыжей — пожилых людей, семьи с детьми и соседей — на праздник двора. Число мест в "
                "творческих мастерских ограничено, поэтому просим зарегистрироваться. На праздник "
                "приглашены и депутаты Даугавпилсской городской думы."
            ),
            description_en=(
                "To close the “Community social work” pilot project, we invite everyone living in "
                "Križi – older people, families with children and neighbours – to a courtyard "
                "festival. Places in the craft workshops are limited, so please register. Members of "
                "Daugavpils City Council have been invited too."
            ),
            accessibility_ru="Праздник проходит на улице, на ровном покрытии. Есть скамейки для отдыха.",
            accessibility_en="The festival is outdoors, on level ground. There are benches to rest on.",
            remind_two_hours=True,  # the day before, and two hours before
        ),
    )
    for position, (title, kind, start, end, where, capacity) in enumerate(
        [
            (
                "Ziemassvētku kartīšu darbnīca",
                ActivityKind.WORKSHOP,
                (12, 30),
                (13, 30),
                "Dienas centra “Saskarsme” telts",
                8,  # full in the demo: the residents below take it, and one party waits
            ),
            (
                "Eglīšu rotājumu darbnīca",
                ActivityKind.WORKSHOP,
                (13, 30),
                (14, 30),
                "Dienas centra “Saskarsme” telts",
                20,
            ),
            (
                "Cigun nodarbība senioriem",
                ActivityKind.WORKSHOP,
                (14, 30),
                (15, 15),
                "Pagalma zāliens",
                12,
            ),
            (
                "Viktorīna “Mana Daugavpils”",
                ActivityKind.CONTEST,
                (15, 30),
                (16, 15),
                "Lielā skatuve",
                None,
            ),
            (
                "Koncerts: kolektīvs “Dialogs”",
                ActivityKind.CONCERT,
                (16, 30),
                (18, 0),
                "Lielā skatuve",
                None,
            ),
        ],
        start=1,
    ):
        save_activity(
            organisers["daugavpils-sd"],
            festival,
            ActivityData(
                title,
                _at(fest_day, *start),
                _at(fest_day, *end),
                kind,
                "",
                where,
                capacity,
                position,
                title_ru=FESTIVAL_ACTIVITY_TITLES[title][0],
                title_en=FESTIVAL_ACTIVITY_TITLES[title][1],
            ),
            None,
            now,
        )
    publish_event(organisers["daugavpils-sd"], festival, now)

    # Preiļi: a training series; the last session had to move online.
    for number, (weeks, fmt) in enumerate(
        [(4, EventFormat.IN_PERSON), (6, EventFormat.IN_PERSON), (8, EventFormat.ONLINE)], 1
    ):
        day = _next_weekday(today, 2, weeks * 7)
        publish(
            "preili-lp",
            EventData(
                kind=EventKind.TRAINING,
                title=f"Mācības darbam ar atkarīgām un līdzatkarīgām personām ({number}. nodarbība)",
                summary="Psihoterapeita un narkologa vadītas nodarbības sociālā darba speciālistiem, grupu darbs un metodiku izmēģināšana.",
                organisation_id=orgs["preili-lp"].id,
                municipality_id=municipalities["preili"].id,
                campaign_id=addiction_pilot.id,
                venue_name=""
                if fmt is EventFormat.ONLINE
                else "Preiļu novada Labklājības pārvalde",
                venue_address="" if fmt is EventFormat.ONLINE else "Raiņa bulvāris 19, Preiļi",
                starts_at=_at(day, 10),
                ends_at=_at(day, 15),
                registration_closes_at=end_of_riga_day(day - timedelta(days=3)),
                capacity=25,
                format=fmt,
                stream_url="https://meet.jit.si/preili-macibas"
                if fmt is EventFormat.ONLINE
                else None,
                description=(
                    "Ārkārtējās situācijas dēļ šī nodarbība notiek tiešsaistē. Saiti saņemsiet reģistrējoties."
                    if fmt is EventFormat.ONLINE
                    else ""
                ),
                target_groups=[TargetGroup.PROFESSIONALS],
            ),
        )

    # Koknese: World Social Work Day (third Tuesday of March), registration opens on 1 March.
    wswd = _third_tuesday_of_march(today)
    koknese = create_event(
        organisers["koknese-sd"],
        EventData(
            kind=EventKind.WORKSHOP,
            title="Vispasaules sociālā darba diena: radošās darbnīcas",
            summary="Radošās darbnīcas dažādu vecumu bērniem un personām ar funkcionāliem traucējumiem.",
            organisation_id=orgs["koknese-sd"].id,
            municipality_id=municipalities["koknese"].id,
            venue_name="Ģimenes atbalsta dienas centrs",
            venue_address="Melioratoru iela 1, Koknese",
            starts_at=_at(wswd, 11),
            ends_at=_at(wswd, 15),
            registration_opens_at=_at(date(wswd.year, 3, 1), 9),
            registration_closes_at=end_of_riga_day(wswd - timedelta(days=1)),
            capacity=30,
            accessibility="Telpas pirmajā stāvā bez sliekšņiem; pieejams asistents. Lūdzam reģistrējoties norādīt vajadzības.",
            target_groups=[
                TargetGroup.CHILDREN,
                TargetGroup.FUNCTIONAL_IMPAIRMENTS,
                TargetGroup.FAMILIES_DISABILITY,
            ],
        ),
    )
    save_activity(
        organisers["koknese-sd"],
        koknese,
        ActivityData(
            "Darbnīca bērniem (6–12 gadi)",
            _at(wswd, 11),
            _at(wswd, 12, 30),
            ActivityKind.WORKSHOP,
            "",
            "1. telpa",
            15,
            1,
        ),
        None,
        now,
    )
    save_activity(
        organisers["koknese-sd"],
        koknese,
        ActivityData(
            "Darbnīca personām ar funkcionāliem traucējumiem",
            _at(wswd, 13),
            _at(wswd, 14, 30),
            ActivityKind.WORKSHOP,
            "",
            "2. telpa",
            10,
            2,
        ),
        None,
        now,
    )
    publish_event(organisers["koknese-sd"], koknese, now)

    # Cēsis: a community meeting still being prepared (a draft: not public).
    cesis_day = _next_weekday(today, 1, 25)
    create_event(
        organisers["cesis-sd"],
        EventData(
            kind=EventKind.MEETING,
            title="Kopienas satikšanās pie kamīna",
            summary="Sarunas par apkaimes vajadzībām un kopīgiem darbiem.",
            organisation_id=orgs["cesis-sd"].id,
            municipality_id=municipalities["cesis"].id,
            campaign_id=pilot.id,
            venue_name="Cēsu novada Sociālais dienests",
            venue_address="Bērzaines iela 16, Cēsis",
            starts_at=_at(cesis_day, 17),
            ends_at=_at(cesis_day, 19),
            target_groups=[TargetGroup.EVERYONE],
        ),
    )
    _demo_registrations(tume, festival, now)
    _seniors_day(organisers["daugavpils-sd"], orgs, municipalities, pilot, today, now)
    db.session.flush()
    return accounts


DEMO_PEOPLE = [
    ("Ilze Kalniņa", 1),
    ("Pēteris Ozols", 2),
    ("Marija Ivanova", 1),
    ("Aija Liepiņa", 3),
    ("Gunārs Bērziņš", 1),
    ("Olga Petrova", 2),
    ("Inta Zariņa", 1),
    ("Rasma Krūmiņa", 2),
]


# What some of them need (eventsvc/needs.py), ticked and in words: the door, the lists and
# the event page's counts have something to show.
DEMO_NEEDS = {
    1: ([Need.WHEELCHAIR], ""),
    2: ([Need.HEARING_LOOP], "Lūdzu vietu tuvāk skatuvei."),
    4: ([Need.WHEELCHAIR, Need.ASSISTANT], ""),
    6: ([Need.SIGN_LANGUAGE], ""),
    7: ([Need.WHEELCHAIR, Need.TRANSPORT], ""),
}


def _demo_registrations(tume: Event, festival: Event, now: datetime) -> None:
    """A few residents already registered, so organisers' lists are not empty."""
    from .registration import RegistrationRequest, register

    workshop = festival.activities[0]
    for number, (name, party) in enumerate(DEMO_PEOPLE, start=1):
        email = f"iedzivotajs{number}@demo.eventsvc.lv"
        ticked, written = DEMO_NEEDS.get(number, ([], ""))
        register(
            tume.id,
            RegistrationRequest(
                name=name,
                email=email,
                party_size=party,
                consent=True,
                attendance=Attendance.IN_PERSON if number % 3 else Attendance.ONLINE,
                access_needs=ticked,
                needs=written,
            ),
            now,
        )
        register(
            festival.id,
            RegistrationRequest(
                name=name,
                email=email,
                party_size=party,
                consent=True,
                # The first five fill the card workshop; the sixth party waits for it, keeping
                # its place at the festival.
                activity_ids=[workshop.id] if number <= 6 else [],
                access_needs=ticked,
                needs=written,
            ),
            now,
        )


# The Seniors' Day concert in Križi, five days ago: who came, and the follow-up list of those
# who had agreed to be called if they could not come (services/follow_up.py).
SENIORS_DAY_PEOPLE = [
    # name, email, phone, language, came, agreed to a follow-up call
    ("Valentīna Sokolova", None, "+371 2600 0101", "ru", False, True),
    ("Jānis Bērziņš", "janis.berzins@demo.eventsvc.lv", "+371 2600 0102", "lv", False, True),
    ("Anna Ivanova", "anna.ivanova@demo.eventsvc.lv", None, "ru", False, True),
    ("Zenta Kalniņa", None, "+371 2600 0104", "lv", True, True),
    ("Boriss Petrovs", "boriss.petrovs@demo.eventsvc.lv", None, "ru", False, False),
    ("Skaidrīte Ozola", "skaidrite.ozola@demo.eventsvc.lv", "+371 2600 0106", "lv", True, False),
]


def _seniors_day(
    organiser: User,
    orgs: dict[str, Organisation],
    municipalities: dict[str, Municipality],
    pilot: Campaign,
    today: date,
    now: datetime,
) -> None:
    from .checkin import check_in_registration
    from .follow_up import mark_called
    from .registration import RegistrationRequest, register

    day = today - timedelta(days=5)
    concert = create_event(
        organiser,
        EventData(
            kind=EventKind.CONCERT,
            title="Senioru dienas koncerts Križos",
            summary="Koncerts un tējas pēcpusdiena Križu apkaimes senioriem.",
            organisation_id=orgs["daugavpils-sd"].id,
            municipality_id=municipalities["daugavpils"].id,
            campaign_id=pilot.id,
            venue_name="Dienas centrs “Saskarsme”",
            venue_address="Križi, Daugavpils",
            starts_at=_at(day, 14),
            ends_at=_at(day, 16),
            capacity=40,
            target_groups=[TargetGroup.SENIORS],
            title_ru="Концерт ко Дню пожилых людей в Крыжах",
            title_en="Seniors' Day concert in Križi",
        ),
    )
    before = concert.starts_at - timedelta(days=14)
    publish_event(organiser, concert, before)
    came = []
    for name, email, phone, language, attended, agreed in SENIORS_DAY_PEOPLE:
        registration = register(
            concert.id,
            RegistrationRequest(
                name=name,
                email=email,
                phone=phone,
                language=language,
                consent=True,
                follow_up_consent=agreed,
            ),
            before,
        ).registration
        if attended:
            came.append(registration)
    db.session.flush()
    for registration in came:
        check_in_registration(concert, registration.id, organiser, concert.starts_at)
    # A social worker has called the first one on the list already; the others wait.
    called = db.session.scalar(
        select(Registration).where(
            Registration.event_id == concert.id, Registration.name == SENIORS_DAY_PEOPLE[0][0]
        )
    )
    assert called is not None  # registered just above
    mark_called(organiser, concert.id, called.id, FollowUpOutcome.REACHED, now - timedelta(days=3))
