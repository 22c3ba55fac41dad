"""Circulars: validation, drafts, copies, targets, sending (frozen recipients) and the list."""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest
from PIL import Image
from sqlmodel import Session, func, select

from desktop.domain.attachments import add_image, attachment_data
from desktop.domain.circulars import (
    ATTENDANCE_CHOICES,
    MAX_QUESTIONS,
    CircularData,
    Question,
    QuestionKind,
    Recipient,
    clean_circular,
    copy_circular,
    create_circular,
    delete_circular,
    find_circular,
    get_circular,
    list_circulars,
    questions_of,
    recipients,
    send_circular,
    target_households,
    update_circular,
)
from desktop.domain.errors import ConflictError, NotFoundError, ValidationError
from desktop.domain.groups import create_group, rename_group
from desktop.domain.households import (
    HouseholdData,
    MemberData,
    create_household,
    get_household,
    move_household,
    purge_household,
    set_circulation_order,
    withdraw_household,
)
from desktop.domain.models import (
    Ask,
    CircularAttachment,
    CircularRecipient,
    CircularStatus,
    GroupKind,
    NoticeChannel,
    TargetKind,
)
from desktop.domain.roles import assign_role, delete_role, list_roles
from desktop.store.association_file import AssociationFile

SENT_AT = datetime(2025, 10, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Town:
    """A small association: 東地区 (1班, 2班), a top-level 3班, and one household in no 班."""

    district: uuid.UUID
    han1: uuid.UUID
    han2: uuid.UUID
    han3: uuid.UUID
    households: dict[str, uuid.UUID]
    han_leader: uuid.UUID


def _household(session: Session, number: str, group_id: uuid.UUID | None,
               channel: NoticeChannel = NoticeChannel.PAPER) -> uuid.UUID:
    emails = ("x@example.jp",) if channel == NoticeChannel.EMAIL else ()
    return create_household(
        session,
        data=HouseholdData(number=number, display_name=f"世帯{number}", channel=channel,
                           emails=emails, address=f"桜町{number}"),
        members=(MemberData(name=f"住人{number}"),),
        group_id=group_id,
    )


def build_town(session: Session) -> Town:
    """The roster the circular tests share (also used by the reply tests)."""
    district = create_group(session, name="東地区", kind=GroupKind.DISTRICT)
    han1 = create_group(session, name="1班", parent_id=district)
    han2 = create_group(session, name="2班", parent_id=district)
    han3 = create_group(session, name="3班")
    ids = {
        "0001": _household(session, "0001", han1),
        "0002": _household(session, "0002", han1, NoticeChannel.APP),
        "0003": _household(session, "0003", han1),
        "0004": _household(session, "0004", han2),
        "0005": _household(session, "0005", han2, NoticeChannel.EMAIL),
        "0006": _household(session, "0006", han3),
        "0007": _household(session, "0007", han3),
        "0008": _household(session, "0008", None),
    }
    withdraw_household(session, household_id=ids["0007"], left_on=date(2025, 5, 1))
    # The route, not the number, orders a 班.
    set_circulation_order(session, group_id=han1,
                          household_ids=[ids["0003"], ids["0001"], ids["0002"]])
    han_leader = next(role.id for role in list_roles(session) if role.name == "班長")

    def member(number: str) -> uuid.UUID:
        member_id = get_household(session, household_id=ids[number]).members[0].id
        assert member_id is not None
        return member_id

    assign_role(session, role_id=han_leader, year=2025, member_id=member("0001"), group_id=han1)
    assign_role(session, role_id=han_leader, year=2026, member_id=member("0006"), group_id=han3)
    return Town(district, han1, han2, han3, ids, han_leader)


def notice(**changes: object) -> CircularData:
    data = CircularData(title="秋の一斉清掃のお知らせ", body="# 一斉清掃\n- 軍手",
                        issued_on=date(2025, 10, 1))
    return replace(data, **changes)  # type: ignore[arg-type]


def _numbers(found: Sequence[Recipient]) -> list[str]:
    return [recipient.number for recipient in found]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def town(association_file: AssociationFile) -> Town:
    with association_file.write() as session:
        return build_town(session)


# ---------------------------------------------------------------- validation


def test_clean_circular_trims_and_drops_what_the_ask_does_not_use() -> None:
    cleaned = clean_circular(notice(
        title="  秋の\n一斉清掃 ", body="\r\n本文  \r\n\r\n- 軍手\r\n", issuer=" 会長　山田 ",
        map_url="ｈｔｔｐｓ：／／ｅｘａｍｐｌｅ．ｊｐ／ｍａｐ",
        ask=Ask.NOTHING, deadline=date(2025, 10, 15),
        questions=(Question("要らない"),), target_group_ids=(uuid.uuid4(),),
    ))
    assert cleaned.title == "秋の 一斉清掃"
    assert cleaned.body == "本文\n\n- 軍手"
    assert cleaned.issuer == "会長 山田"
    assert cleaned.map_url == "https://example.jp/map"
    assert cleaned.deadline is None  # nothing to answer, nothing due
    assert cleaned.questions == ()
    assert cleaned.target_group_ids == ()  # ALL needs no 班


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "長" * 101}, "title"),
        ({"map_url": "地図を見てください"}, "map_url"),
        ({"map_url": "ftp://example.jp"}, "map_url"),
        ({"target_kind": TargetKind.GROUPS}, "target"),
        ({"target_kind": TargetKind.ROLE}, "target"),
        ({"ask": Ask.READ}, "deadline"),
        ({"ask": Ask.ATTENDANCE, "deadline": date(2025, 9, 30)}, "deadline"),
        ({"ask": Ask.SURVEY, "deadline": date(2025, 10, 9)}, "questions"),
        ({"ask": Ask.SURVEY, "deadline": date(2025, 10, 9),
          "questions": (Question("賛成ですか", choices=("賛成",)),)}, "questions"),
        ({"ask": Ask.SURVEY, "deadline": date(2025, 10, 9),
          "questions": (Question(" ", QuestionKind.TEXT),)}, "questions"),
        ({"ask": Ask.SURVEY, "deadline": date(2025, 10, 9),
          "questions": (Question("参加しますか", choices=("○", "〇")),)}, "questions"),
        ({"ask": Ask.SURVEY, "deadline": date(2025, 10, 9),
          "questions": tuple(Question(f"問{n}", QuestionKind.TEXT)
                             for n in range(MAX_QUESTIONS + 1))}, "questions"),
    ],
)
def test_clean_circular_names_the_field_at_fault(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_circular(notice(**changes))
    assert caught.value.field == field
    assert caught.value.message.endswith(".")


def test_survey_questions_are_cleaned_and_text_questions_take_no_choices() -> None:
    cleaned = clean_circular(notice(
        ask=Ask.SURVEY, deadline=date(2025, 10, 20),
        questions=(Question(" 参加しますか ", choices=(" ○ ", "", "×")),
                   Question("ご意見", QuestionKind.TEXT, ("無視",))),
    ))
    assert cleaned.questions == (Question("参加しますか", QuestionKind.CHOICE, ("○", "×")),
                                 Question("ご意見", QuestionKind.TEXT, ()))
    assert questions_of(cleaned) == cleaned.questions
    assert len(clean_circular(replace(cleaned, questions=cleaned.questions * 5)).questions) == 10


def test_questions_of_each_kind_of_ask() -> None:
    [attendance] = questions_of(notice(ask=Ask.ATTENDANCE))
    assert attendance.choices == ATTENDANCE_CHOICES == ("出席", "欠席")
    assert questions_of(notice(ask=Ask.READ)) == ()
    assert questions_of(notice(ask=Ask.NOTHING)) == ()


# ---------------------------------------------------------------- drafts


def test_create_get_update_and_delete_a_draft(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        circular_id = create_circular(session, data=notice(ask=Ask.READ,
                                                           deadline=date(2025, 10, 8)))
    with association_file.read() as session:
        record = get_circular(session, circular_id=circular_id)
    assert record.status == CircularStatus.DRAFT
    assert record.sent_at is None
    assert record.data == clean_circular(notice(ask=Ask.READ, deadline=date(2025, 10, 8)))
    survey = notice(title="アンケート", ask=Ask.SURVEY, deadline=date(2025, 10, 20),
                    questions=(Question("参加", choices=("する", "しない")),
                               Question("意見", QuestionKind.TEXT)))
    with association_file.write() as session:
        update_circular(session, circular_id=circular_id, data=survey)
        assert get_circular(session, circular_id=circular_id).data == clean_circular(survey)
        delete_circular(session, circular_id=circular_id)
        with pytest.raises(NotFoundError):
            get_circular(session, circular_id=circular_id)


def test_targets_must_exist(association_file: AssociationFile) -> None:
    with association_file.write() as session, pytest.raises(NotFoundError) as caught:
        create_circular(session, data=notice(target_kind=TargetKind.GROUPS,
                                             target_group_ids=(uuid.uuid4(),)))
    assert caught.value.field == "target"


def test_copy_makes_a_new_draft_with_attachments_and_the_same_time_to_answer(
    association_file: AssociationFile, town: Town
) -> None:
    data = notice(ask=Ask.ATTENDANCE, deadline=date(2025, 10, 15))
    with association_file.write() as session:
        source = create_circular(session, data=data)
        attached = add_image(session, circular_id=source, file_name="map.png", data=_png())
        send_circular(session, circular_id=source, sent_at=SENT_AT)
        copy = copy_circular(session, circular_id=source, issued_on=date(2026, 10, 3))
    with association_file.read() as session:
        record = get_circular(session, circular_id=copy)
        original = get_circular(session, circular_id=source)
        [attachment] = record.attachments
        assert attachment_data(session, attachment_id=attachment.id) == attachment_data(
            session, attachment_id=attached)
    assert record.status == CircularStatus.DRAFT
    assert record.data.issued_on == date(2026, 10, 3)
    assert record.data.deadline == date(2026, 10, 17)
    assert record.data.title == data.title
    assert attachment.id != attached
    assert attachment.file_name == "map.png"
    assert original.status == CircularStatus.SENT  # the source is untouched


def test_a_sent_circular_cannot_change(association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session:
        circular_id = create_circular(session, data=notice())
        assert send_circular(session, circular_id=circular_id, sent_at=SENT_AT) == 7
    with association_file.write() as session:
        for change in (
            lambda: update_circular(session, circular_id=circular_id, data=notice(title="別")),
            lambda: delete_circular(session, circular_id=circular_id),
            lambda: send_circular(session, circular_id=circular_id, sent_at=SENT_AT),
        ):
            with pytest.raises(ConflictError, match="has been sent"):
                change()
        record = get_circular(session, circular_id=circular_id)
    assert record.status == CircularStatus.SENT
    assert record.sent_at == SENT_AT


# ---------------------------------------------------------------- who it goes to


def test_everyone_means_every_current_household_in_route_order(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.read() as session:
        found = target_households(session, data=notice())
    # 1班 by its route (0003 first), then 2班, then the top-level 3班; 0007 has withdrawn;
    # 0008 is in no 班 and comes last.
    assert _numbers(found) == ["0003", "0001", "0002", "0004", "0005", "0006", "0008"]
    assert [r.group_name for r in found] == ["1班", "1班", "1班", "2班", "2班", "3班", ""]
    assert found[0].household_id == town.households["0003"]
    assert found[0].group_id == town.han1
    assert found[0].address == "桜町0003"
    assert found[2].channel == NoticeChannel.APP
    assert found[-1].group_id is None


def test_chosen_groups_and_a_district_means_its_han(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.read() as session:
        hans = target_households(session, data=notice(
            target_kind=TargetKind.GROUPS, target_group_ids=(town.han3, town.han2)))
        district = target_households(session, data=notice(
            target_kind=TargetKind.GROUPS, target_group_ids=(town.district,)))
    assert _numbers(hans) == ["0004", "0005", "0006"]  # tree order, not the order chosen
    assert _numbers(district) == ["0003", "0001", "0002", "0004", "0005"]


def test_role_holders_of_the_year_of_the_circular(
    association_file: AssociationFile, town: Town
) -> None:
    def holders(issued_on: date) -> list[str]:
        with association_file.read() as session:
            return _numbers(target_households(session, data=notice(
                target_kind=TargetKind.ROLE, target_role_id=town.han_leader, issued_on=issued_on)))

    assert holders(date(2025, 10, 1)) == ["0001"]
    assert holders(date(2026, 3, 31)) == ["0001"]  # still 2025年度
    assert holders(date(2026, 4, 1)) == ["0006"]
    assert holders(date(2027, 4, 1)) == []


def test_sending_to_no_one_is_refused(association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session:
        circular_id = create_circular(session, data=notice(
            target_kind=TargetKind.ROLE, target_role_id=town.han_leader,
            issued_on=date(2030, 5, 1)))
        with pytest.raises(ValidationError, match="reaches no household") as caught:
            send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
        assert caught.value.field == "target"
        assert get_circular(session, circular_id=circular_id).status == CircularStatus.DRAFT


def test_an_incomplete_draft_is_not_sent(association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session:
        role = next(r.id for r in list_roles(session) if r.name == "防災部長")
        circular_id = create_circular(session, data=notice(target_kind=TargetKind.ROLE,
                                                           target_role_id=role))
        delete_role(session, role_id=role)  # the draft loses its target
        with pytest.raises(ValidationError) as caught:
            send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
    assert caught.value.field == "target"


def test_sending_freezes_the_recipients(association_file: AssociationFile, town: Town) -> None:
    with association_file.write() as session:
        circular_id = create_circular(session, data=notice(
            target_kind=TargetKind.GROUPS, target_group_ids=(town.district,)))
        draft = recipients(session, circular_id=circular_id)
        assert send_circular(session, circular_id=circular_id, sent_at=SENT_AT) == 5
    with association_file.write() as session:
        # The roster changes after sending: none of it changes who received the circular.
        move_household(session, household_id=town.households["0003"], group_id=town.han3)
        rename_group(session, group_id=town.han1, name="一班")
        _household(session, "0009", town.han1)
        withdraw_household(session, household_id=town.households["0004"],
                           left_on=date(2025, 11, 1))
    with association_file.read() as session:
        frozen = recipients(session, circular_id=circular_id)
        stored = session.exec(select(func.count()).select_from(CircularRecipient)).one()
    assert frozen == draft
    assert _numbers(frozen) == ["0003", "0001", "0002", "0004", "0005"]
    assert {r.group_name for r in frozen} == {"1班", "2班"}
    assert stored == 5


def test_recipients_of_one_group_or_one_channel(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        circular_id = create_circular(session, data=notice())
        before = {
            "han1": recipients(session, circular_id=circular_id, group_id=town.han1),
            "paper": recipients(session, circular_id=circular_id,
                                channel=NoticeChannel.PAPER),
        }
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
        after = {
            "han1": recipients(session, circular_id=circular_id, group_id=town.han1),
            "paper": recipients(session, circular_id=circular_id,
                                channel=NoticeChannel.PAPER),
            "district paper": recipients(session, circular_id=circular_id,
                                         group_id=town.district, channel=NoticeChannel.PAPER),
        }
    assert before == {key: after[key] for key in before}  # a draft and its frozen list agree
    assert _numbers(after["han1"]) == ["0003", "0001", "0002"]
    assert _numbers(after["paper"]) == ["0003", "0001", "0004", "0006", "0008"]
    assert _numbers(after["district paper"]) == ["0003", "0001", "0004"]


def test_purging_a_household_keeps_the_rest_of_the_circular(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        circular_id = create_circular(session, data=notice())
        send_circular(session, circular_id=circular_id, sent_at=SENT_AT)
    with association_file.write() as session:
        withdraw_household(session, household_id=town.households["0008"],
                           left_on=date(2025, 12, 1))
        purge_household(session, household_id=town.households["0008"])
    with association_file.read() as session:
        assert "0008" not in _numbers(recipients(session, circular_id=circular_id))
        assert len(recipients(session, circular_id=circular_id)) == 6


# ---------------------------------------------------------------- the list and the CLI


def test_list_shows_newest_first_with_counts(
    association_file: AssociationFile, town: Town
) -> None:
    with association_file.write() as session:
        old = create_circular(session, data=notice(title="春", issued_on=date(2025, 4, 1)))
        send_circular(session, circular_id=old, sent_at=SENT_AT)
        new = create_circular(session, data=notice(
            title="冬", issued_on=date(2025, 12, 1), target_kind=TargetKind.GROUPS,
            target_group_ids=(town.han2,)))
    with association_file.read() as session:
        listed = list_circulars(session)
    assert [(c.id, c.title, c.status, c.recipients, c.replies) for c in listed] == [
        (new, "冬", CircularStatus.DRAFT, 2, 0),
        (old, "春", CircularStatus.SENT, 7, 0),
    ]


def test_find_circular_by_id_or_prefix(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        first = create_circular(session, data=notice())
        second = create_circular(session, data=notice())
    with association_file.read() as session:
        assert find_circular(session, reference=str(first)) == first
        assert find_circular(session, reference=second.hex.upper()) == second
        # UUIDv7 made together share their first digits; the random end tells them apart.
        common = next(n for n in range(32) if first.hex[n] != second.hex[n])
        assert find_circular(session, reference=" " + second.hex[:max(common + 1, 4)]) == second
        if common >= 4:
            with pytest.raises(ValidationError, match="Type more"):
                find_circular(session, reference=first.hex[:4])
        with pytest.raises(ValidationError, match="at least the first 4"):
            find_circular(session, reference="01a")
        with pytest.raises(ValidationError):
            find_circular(session, reference="秋の清掃")
        with pytest.raises(NotFoundError):
            find_circular(session, reference="ffff")


def test_a_deleted_draft_takes_its_attachments(association_file: AssociationFile) -> None:
    with association_file.write() as session:
        circular_id = create_circular(session, data=notice())
        add_image(session, circular_id=circular_id, file_name="a.png", data=_png())
        delete_circular(session, circular_id=circular_id)
        assert session.exec(select(func.count()).select_from(CircularAttachment)).one() == 0
