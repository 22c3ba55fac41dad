"""Writing a generated demo association (``demo_data``) into an association file, fast.

A demo of 50,000 households is what the benchmarks open, so rows go in with bulk inserts in one
transaction, computing the derived columns with the same functions the editor uses. The demo
also has circulars to show (one sent with a few paper answers entered, and a draft survey)
and a general meeting (総会) with a few hundred returns of every kind entered.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from desktop.domain import audit
from desktop.domain.association import create_association
from desktop.domain.circulars import (
    CircularData,
    Question,
    QuestionKind,
    Recipient,
    create_circular,
    recipients,
    send_circular,
)
from desktop.domain.demo_data import DemoGroup, DemoRoster
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    NewHousehold,
    bulk_add_households,
)
from desktop.domain.ids import uuid7
from desktop.domain.meeting import (
    MAJORITY_OF_PRESENT,
    TWO_THIRDS_OF_PRESENT,
    Entry,
    EntryKind,
    Source,
    Vote,
    store_rows,
)
from desktop.domain.meeting.entries import meeting_tally, record_floor_vote
from desktop.domain.meeting.meetings import (
    ItemData,
    MeetingData,
    create_meeting,
    mark_forms_printed,
    meeting_voters,
    set_chair,
)
from desktop.domain.models import (
    Ask,
    GroupKind,
    NoticeChannel,
    ReplyChannel,
    Role,
    RoleAssignment,
    RosterGroup,
)
from desktop.domain.replies import record_reply
from desktop.domain.text import normalise_furigana
from desktop.domain.wareki import format_nendo

Progress = Callable[[int, int], None]
_BATCH = 5000


def populate_demo(
    session: Session, roster: DemoRoster, *, year: int, progress: Progress | None = None
) -> uuid.UUID:
    """Record ``roster`` as the association of an empty file; returns the association id."""
    association_id = create_association(session, name=roster.association_name)
    now = datetime.now(UTC).replace(microsecond=0)
    group_rows: list[dict[str, Any]] = []
    han_ids: dict[str, uuid.UUID] = {}
    hans: list[tuple[uuid.UUID, DemoGroup]] = []

    def add_group(group: DemoGroup, parent_id: uuid.UUID | None, position: int) -> None:
        group_id = uuid7()
        group_rows.append({"id": group_id, "parent_id": parent_id, "name": group.name,
                           "kind": GroupKind(group.kind), "position": position})
        if group.kind == GroupKind.HAN:
            han_ids[group.name] = group_id
            hans.append((group_id, group))
        for child_position, child in enumerate(group.children, start=1):
            add_group(child, group_id, child_position)

    for position, group in enumerate(roster.groups, start=1):
        add_group(group, None, position)
    session.execute(insert(RosterGroup), group_rows)
    audit.record_inserts(session, RosterGroup, group_rows)

    total = sum(len(group.households) for _id, group in hans)
    new: list[NewHousehold] = []
    member_ids: dict[tuple[str, int], uuid.UUID] = {}
    for group_id, group in hans:
        for order, demo in enumerate(group.households, start=1):
            ids = [uuid7() for _member in demo.members]
            member_ids.update(((demo.number, index), mid) for index, mid in enumerate(ids))
            members = tuple(
                MemberData(id=mid, name=m.name, furigana=normalise_furigana(m.furigana),
                           relation=m.relation, is_head=m.is_head, phone=m.phone or "",
                           email=m.email or "", app_access=m.app_access)
                for mid, m in zip(ids, demo.members, strict=True)
            )
            data = HouseholdData(
                number=demo.number, display_name=demo.display_name,
                furigana=normalise_furigana(demo.furigana), postal_code=demo.postal_code,
                address=demo.address, phone=demo.phone or "",
                channel=NoticeChannel(demo.channel), emails=demo.emails,
                joined_on=demo.joined_on, exempt_han_leader=demo.exempt_han_leader,
                notes=demo.notes,
            )
            new.append(NewHousehold(uuid7(), group_id, order, data, members))
    for start in range(0, total, _BATCH):
        bulk_add_households(session, new[start:start + _BATCH])
        if progress is not None:
            progress(min(start + _BATCH, total), total)

    roles = {role.name: role.id for role in session.exec(select(Role)).all()}
    assignments = [
        {"id": uuid7(), "role_id": roles[officer.role], "year": year,
         "member_id": member_ids[(officer.household_number, officer.member_index)],
         "group_id": han_ids[officer.group_name] if officer.group_name else None,
         "created_at": now}
        for officer in roster.officers
        if officer.role in roles
    ]
    if assignments:
        session.execute(insert(RoleAssignment), assignments)
        audit.record_inserts(session, RoleAssignment, assignments)
    session.flush()
    chair = next((officer for officer in roster.officers if officer.role == "会長"), None)
    chair_name = ""
    if chair is not None:
        chair_name = next(demo.members[chair.member_index].name
                          for _id, group in hans for demo in group.households
                          if demo.number == chair.household_number)
    add_demo_circulars(session, year=year, issuer=f"会長 {chair_name}".strip(),
                       han_ids=[group_id for group_id, _group in hans])
    add_demo_meeting(session, year=year,
                     chair_number=chair.household_number if chair is not None else None)
    return association_id


_CLEANUP_BODY = """# 秋の一斉清掃
日頃より町内の美化にご協力いただき、ありがとうございます。
下記のとおり一斉清掃を行います。多くの方のご参加をお願いいたします。

## 日時と集合場所
- 日時：10月第3日曜日　午前8時から9時まで（雨天中止）
- 集合：各班のごみ集積所

## 持ち物
- 軍手、ほうき、ちりとり
- ごみ袋は自治会で用意します

出欠を下の回答票で班長へお知らせください。"""

_DRILL_BODY = """# 防災訓練についてのアンケート
今年度の防災訓練の内容を決めるため、皆さまのご意見をお聞かせください。

1. 下の回答票にご記入ください。
2. 回答票を切り取り、班長へお渡しください。"""


def add_demo_circulars(
    session: Session, *, year: int, issuer: str, han_ids: Sequence[uuid.UUID]
) -> None:
    """The demo's circulars: 「秋の一斉清掃のお知らせ」 sent to everyone, with attendance
    answers from a few paper households of the first 班 (``han_ids``, in order), and a draft
    survey about the 防災訓練."""
    issued_on = date(year, 10, 1)
    cleanup = create_circular(session, data=CircularData(
        title="秋の一斉清掃のお知らせ", body=_CLEANUP_BODY, issued_on=issued_on, issuer=issuer,
        ask=Ask.ATTENDANCE, deadline=issued_on + timedelta(days=14),
    ))
    sent_at = datetime(year, 10, 1, 9, 0, tzinfo=UTC)
    send_circular(session, circular_id=cleanup, sent_at=sent_at)
    answers = ("出席", "出席", "欠席", "出席", "欠席", "出席")
    paper: list[Recipient] = []
    for han_id in han_ids:  # a 班 at a time: a big demo has tens of thousands of households
        paper += recipients(session, circular_id=cleanup, group_id=han_id,
                            channel=NoticeChannel.PAPER)
        if len(paper) >= len(answers):
            break
    for day, (recipient, answer) in enumerate(zip(paper, answers, strict=False), start=3):
        record_reply(session, circular_id=cleanup, entry=recipient.number, answers=[answer],
                     channel=ReplyChannel.PAPER, received_at=sent_at + timedelta(days=day))
    drill_on = date(year, 11, 1)
    create_circular(session, data=CircularData(
        title="防災訓練についてのアンケート", body=_DRILL_BODY, issued_on=drill_on,
        issuer=issuer, ask=Ask.SURVEY, deadline=drill_on + timedelta(days=20),
        questions=(
            Question("防災訓練への参加を希望しますか", QuestionKind.CHOICE,
                     ("希望する", "希望しない")),
            Question("避難所の場所を知っていますか", QuestionKind.CHOICE, ("○", "×")),
            Question("ご意見・ご要望", QuestionKind.TEXT),
        ),
    ))


_MEETING_RETURNS = 350  # entries of the demo meeting, whatever the size of the demo
_DEMO_ANSWERS = (Vote.FOR, Vote.AGAINST, Vote.ABSTAIN, Vote.BLANK, Vote.SPOILED)


def add_demo_meeting(session: Session, *, year: int, chair_number: str | None) -> uuid.UUID:
    """The demo's 定期総会 of ``year`` (令和8年度 for 2026): four items, one of them a bylaw
    change needing two thirds; the 会長's household (``chair_number``) in the chair; a few
    hundred returns of every kind (forms in the fortnight before, check-ins at the door,
    proxies blank, to members present and to members absent, written votes with a blank or
    a spoiled answer here and there, corrections and a cancel) and the show of hands.

    The same roster and year give the same meeting. Entries go in through the fast path: they
    are generated valid, so the checks of ``record_entry`` would only cost time.
    """
    nendo, previous = format_nendo(year), format_nendo(year - 1)
    held_on = date(year, 5, 24)
    meeting_id = create_meeting(session, data=MeetingData(
        title=f"{nendo} 定期総会", held_on=held_on, place="町内会館 大広間",
        record_date=date(year, 4, 1)), items=(
        ItemData(f"{previous}事業報告及び決算報告の承認について", MAJORITY_OF_PRESENT),
        ItemData(f"{nendo}事業計画案及び予算案の承認について", MAJORITY_OF_PRESENT),
        ItemData(f"{nendo}役員選任について", MAJORITY_OF_PRESENT),
        ItemData("自治会規約の一部改正について", TWO_THIRDS_OF_PRESENT),
    ))
    voters = [voter.key for voter in meeting_voters(session, meeting_id=meeting_id)]
    if chair_number in voters:
        set_chair(session, meeting_id=meeting_id, voter_key=chair_number)
    printed = datetime(year, 5, 1, 10, 0, tzinfo=UTC)
    mark_forms_printed(session, meeting_id=meeting_id, at=printed)
    rng = random.Random(year)
    chosen = rng.sample(voters, k=min(len(voters) * 4 // 5, _MEETING_RETURNS))
    door = datetime(year, 5, 24, 0, 30, tzinfo=UTC)  # 9:30 in Japan, on the day
    attending = chosen[: len(chosen) // 5]
    entries: list[Entry] = []

    def add(key: str, kind: EntryKind, at: datetime, *, holder: str | None = None,
            votes: tuple[Vote, ...] = (), source: Source = Source.FORM,
            cancels: int | None = None) -> Entry:
        entry = Entry(key, kind, len(entries) + 1, at, "受付", holder, votes, source, cancels)
        entries.append(entry)
        return entry

    form_time = printed + timedelta(days=2)
    for number, key in enumerate(chosen[len(attending):]):
        at = form_time + timedelta(minutes=7 * number)
        roll = rng.random()
        if roll < 0.3:
            holder = (None if rng.random() < 0.6 else rng.choice(attending)
                      if rng.random() < 0.8 else rng.choice(chosen[len(attending):]))
            add(key, EntryKind.PROXY, at, holder=None if holder == key else holder)
        elif roll < 0.85:
            votes = tuple(rng.choices(_DEMO_ANSWERS, weights=(80, 10, 6, 3, 1), k=4))
            add(key, EntryKind.WRITTEN, at, votes=votes)
            if rng.random() < 0.03:  # read wrongly, then corrected
                corrected = (Vote.FOR,) * 4
                add(key, EntryKind.WRITTEN, at + timedelta(minutes=2),
                    votes=corrected if votes != corrected else (*corrected[:3], Vote.AGAINST))
        else:
            mistake = add(key, EntryKind.ABSENT, at)
            if rng.random() < 0.1:  # typed for the wrong household, then cancelled
                add(key, EntryKind.CANCEL, at + timedelta(minutes=1), cancels=mistake.sequence)
    for number, key in enumerate(attending):
        add(key, EntryKind.ATTEND, door + timedelta(seconds=20 * number), source=Source.DOOR)
    store_rows.insert_entries(session, meeting_id, entries, [uuid7().hex for _ in entries])
    hands = meeting_tally(session, meeting_id=meeting_id).counts.on_the_floor
    for index in range(4):
        against = hands // (8 + 4 * index)
        record_floor_vote(session, meeting_id=meeting_id, item_index=index,
                          for_=hands - against - hands // 20, against=against,
                          abstain=hands // 20, entered_by="書記",
                          entered_at=door + timedelta(hours=1, minutes=15 * index))
    return meeting_id
