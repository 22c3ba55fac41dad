"""The whole association out and back: export → import gives an equal association; a bundle
from a newer Kairan, an edited one and an incomplete one are refused before anything is
written."""

from __future__ import annotations

import io
import json
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlmodel import Session, col
from sqlmodel import select as orm_select

from desktop.domain import audit
from desktop.domain.bundle.export import export_bundle
from desktop.domain.bundle.format import (
    EXCLUDED_TABLES,
    MANIFEST,
    BundleProblem,
    NewerBundle,
    TamperedBundle,
    exported_tables,
    sha256_of,
)
from desktop.domain.bundle.restore import check_bundle, import_bundle, import_into_new_file
from desktop.domain.demo import populate_demo
from desktop.domain.demo_data import generate_demo_roster
from desktop.domain.errors import KairanError
from desktop.domain.meeting.meetings import save_rules
from desktop.domain.meeting.rules import Rules
from desktop.domain.models import (
    AttachmentKind,
    Circular,
    CircularAttachment,
    CircularRead,
    DisasterEvent,
    Handover,
    HandoverMemo,
    Household,
    ImportMapping,
    OfficerProfile,
    ReplyChannel,
    Role,
    SafetyAnswer,
    SafetyStatus,
)
from desktop.store.association_file import (
    AssociationFile,
    create_association_file,
    open_association,
)

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 9, 30, 15, 123456, tzinfo=UTC)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _fill_every_table(session: Session) -> None:
    """Rows for the tables the demo leaves empty, and values that are hard to carry: text
    starting with =, control characters, characters outside the BMP, None, microseconds."""
    populate_demo(session, generate_demo_roster(40, seed=7), year=2026)
    circulars = session.exec(orm_select(Circular).order_by(col(Circular.issued_on))).all()
    households = session.exec(orm_select(Household).order_by(col(Household.number))).all()
    first, second = households[0], households[1]
    first.notes = "=SUM(A1:A3) 𠮷野家\x01の前"
    second.left_on = date(2020, 3, 31)
    save_rules(session, rules=Rules())
    session.add(ImportMapping(signature="世帯番号\x1f氏名", columns={"number": 0, "name": 1},
                              updated_at=NOW))
    session.add(CircularAttachment(circular_id=circulars[0].id, kind=AttachmentKind.IMAGE,
                                   file_name="地図/案内.png", media_type="image/png",
                                   data=_png(), created_at=NOW))
    session.add(CircularRead(circular_id=circulars[0].id, household_id=first.id, read_at=NOW,
                             channel=ReplyChannel.APP))
    event = DisasterEvent(message="大雨", started_at=NOW, started_by="会長")
    session.add(event)
    session.add(SafetyAnswer(household_id=first.id, status=SafetyStatus.CONTACT, note="足が悪い",
                             needs_help=True, channel=ReplyChannel.PHONE, at=NOW))
    session.add(Handover(year=2026, from_year=2025, starts_on=date(2026, 4, 1),
                         ends_on=date(2027, 3, 31), done_at=NOW, done_by="山田"))
    role = session.exec(orm_select(Role).order_by(col(Role.position))).first()
    assert role is not None
    session.add(HandoverMemo(year=2026, role_id=role.id, text="印鑑は金庫に\n鍵は会計",
                             written_at=NOW))
    session.add(OfficerProfile(name="山田 太郎", pin_hash="ab$cd", created_at=NOW))
    session.flush()
    audit.record(session, action="update", entity="household", entity_id=first.id.hex,
                 household_id=first.id, summary="世帯 0001",
                 changes={"notes": ("", first.notes)})
    audit.record(session, action="insert", entity="handover", entity_id="2026",
                 summary="2026年度", changes={"year": (None, 2026)})


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every exported table's rows, in primary-key order, as the database gives them."""
    opened = open_association(path)
    try:
        with opened.read() as session:
            connection = session.connection()
            return {table.name: [tuple(row) for row in connection.execute(
                select(table).order_by(*table.primary_key.columns))]
                for table in exported_tables()}
    finally:
        opened.close()


@pytest.fixture(scope="module")
def full_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo association with a row in every table a bundle carries (made once)."""
    folder = tmp_path_factory.mktemp("bundle-source")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KAIRAN_HOME", str(folder / "home"))
        created = create_association_file(folder / "source.kairan")
        try:
            with created.write() as session:
                _fill_every_table(session)
        finally:
            created.close()
    return created.path


@pytest.fixture(scope="module")
def bundle(full_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full association exported to a folder (made once; tests copy it to change it)."""
    folder = tmp_path_factory.mktemp("bundle")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KAIRAN_HOME", str(folder / "home"))
        opened = open_association(full_file)
        try:
            with opened.read() as session:
                result = export_bundle(session, folder / "out", today=TODAY)
        finally:
            opened.close()
    assert result.skipped == ()
    return result.path


@pytest.fixture
def copy(bundle: Path, tmp_path: Path) -> Path:
    """A copy of the bundle this test may change."""
    return Path(shutil.copytree(bundle, tmp_path / "copy"))


@pytest.fixture
def empty_file(tmp_path: Path) -> Iterator[AssociationFile]:
    """A new Kairan file with nothing in it (not even an association)."""
    opened = create_association_file(tmp_path / "new.kairan")
    yield opened
    opened.close()


# ---------------------------------------------------------------- the round trip


def test_every_table_has_rows_so_the_round_trip_covers_it(full_file: Path) -> None:
    empty = [name for name, rows in _rows(full_file).items() if not rows]
    assert empty == []


def test_export_then_import_gives_an_equal_association(full_file: Path, bundle: Path,
                                                       empty_file: AssociationFile) -> None:
    with empty_file.write() as session:
        result = import_bundle(session, bundle)
    path = empty_file.path
    empty_file.close()
    assert result.association
    assert _rows(path) == _rows(full_file)
    again = open_association(path)
    try:
        with again.read() as session:
            report = audit.verify_chain(session)
            assert report.ok, report.problems
            assert report.checked == len(_rows(full_file)["audit_record"])
    finally:
        again.close()


def test_the_import_itself_is_not_recorded_in_the_trail(bundle: Path,
                                                         empty_file: AssociationFile) -> None:
    with empty_file.write() as session:
        import_bundle(session, bundle)
    with empty_file.read() as session:
        assert len(audit.history(session)) == json.loads(
            (bundle / MANIFEST).read_text("utf-8"))["tables"]["audit_record"]["rows"]


def test_a_zip_bundle_round_trips_into_a_new_file(full_file: Path, tmp_path: Path) -> None:
    opened = open_association(full_file)
    try:
        with opened.read() as session:
            result = export_bundle(session, tmp_path / "全データ", as_zip=True, today=TODAY)
    finally:
        opened.close()
    assert result.path == tmp_path / "全データ.zip"
    with zipfile.ZipFile(result.path) as archive:
        assert "全データ/manifest.json" in archive.namelist()
    import_into_new_file(result.path, tmp_path / "restored.kairan")
    assert _rows(tmp_path / "restored.kairan") == _rows(full_file)


# ---------------------------------------------------------------- what the bundle holds


def test_the_bundle_holds_json_xlsx_pdfs_readme_and_checksums(bundle: Path) -> None:
    manifest = json.loads((bundle / MANIFEST).read_text("utf-8"))
    assert manifest["format"] == "kairan-bundle"
    assert manifest["schema_revision"] == "0010"
    names = {table.name for table in exported_tables()}
    assert set(manifest["tables"]) == names
    assert not EXCLUDED_TABLES & set(manifest["tables"])
    for name in names:
        assert (bundle / "data" / f"{name}.json").is_file()
        assert (bundle / "tables" / f"{name}.xlsx").is_file()
    files = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    assert sorted(manifest["files"]) == [name for name in files if name != MANIFEST]
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_of((bundle / name).read_bytes())
    pdfs = [name for name in files if name.endswith(".pdf")]
    assert "pdf/名簿_班別.pdf" in pdfs
    assert any(name.startswith("pdf/回覧/") for name in pdfs)
    assert any(name.startswith("pdf/総会/") and name.endswith("_議決結果.pdf") for name in pdfs)
    assert any(name.startswith("attachments/") and name.endswith("案内.png") for name in files)
    readme = (bundle / "README.md").read_text("utf-8")
    assert "outbox_op" in readme and "同期" in readme and "Not included" in readme


def test_json_keeps_exact_values_and_types(bundle: Path) -> None:
    households = json.loads((bundle / "data" / "household.json").read_text("utf-8"))
    row = next(r for r in households["rows"] if r["notes"].startswith("=SUM"))
    assert row["notes"] == "=SUM(A1:A3) 𠮷野家\x01の前"
    assert uuid.UUID(row["id"])
    assert row["left_on"] is None
    reads = json.loads((bundle / "data" / "circular_read.json").read_text("utf-8"))
    assert reads["rows"][0]["read_at"] == "2026-06-01T09:30:15.123456+00:00"
    attachments = json.loads((bundle / "data" / "circular_attachment.json").read_text("utf-8"))
    assert attachments["rows"][0]["data"]  # base64 text
    columns = json.loads((bundle / MANIFEST).read_text("utf-8"))["tables"]["household"]
    kinds = {column["name"]: column["type"] for column in columns["columns"]}
    assert kinds["id"] == "uuid" and kinds["channel"] == "enum" and kinds["emails"] == "json"


def test_xlsx_cells_stay_text_and_within_excel_limits(bundle: Path) -> None:
    from openpyxl import load_workbook

    workbook = load_workbook(bundle / "tables" / "household.xlsx", read_only=True)
    try:  # a read-only workbook keeps its file open until closed
        sheet = workbook.active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    header = list(rows[0])
    assert "updated_at (UTC)" in header
    notes = [row[header.index("notes")] for row in rows[1:]]
    assert "=SUM(A1:A3) 𠮷野家の前" in notes  # text, not a formula; control character gone


def test_an_existing_folder_with_files_is_refused(full_file: Path, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "note.txt").write_text("x")
    opened = open_association(full_file)
    try:
        with opened.read() as session, pytest.raises(KairanError, match="not empty"):
            export_bundle(session, tmp_path / "taken", today=TODAY)
    finally:
        opened.close()


def test_a_cancelled_export_leaves_nothing_behind(full_file: Path, tmp_path: Path) -> None:
    class Cancelled(Exception):
        pass

    def cancel(done: int, total: int) -> None:
        if done > total // 3:
            raise Cancelled

    folder = tmp_path / "exports"
    folder.mkdir()
    opened = open_association(full_file)
    try:
        for as_zip in (False, True):
            with opened.read() as session, pytest.raises(Cancelled):
                export_bundle(session, folder / "out", as_zip=as_zip, today=TODAY,
                              progress=cancel)
    finally:
        opened.close()
    assert list(folder.iterdir()) == []


def test_a_broken_attachment_skips_its_pdf_and_says_so(full_file: Path,
                                                       tmp_path: Path) -> None:
    path = tmp_path / "broken.kairan"
    shutil.copyfile(full_file, path)
    opened = open_association(path)
    try:
        with opened.write() as session:
            circular = session.exec(orm_select(Circular)).first()
            assert circular is not None
            session.add(CircularAttachment(circular_id=circular.id, kind=AttachmentKind.PDF,
                                           file_name="壊れた.pdf", media_type="application/pdf",
                                           data=b"%PDF-1.4 broken", position=5))
        with opened.read() as session:
            result = export_bundle(session, tmp_path / "out", today=TODAY)
    finally:
        opened.close()
    assert len(result.skipped) == 1 and "pdf/回覧/" in result.skipped[0]
    manifest = json.loads((result.path / MANIFEST).read_text("utf-8"))
    assert manifest["documents_skipped"] == list(result.skipped)
    assert "pdf/回覧/" in (result.path / "README.md").read_text("utf-8")


# ---------------------------------------------------------------- refusals


def _rewrite_manifest(bundle: Path, **changes: object) -> None:
    path = bundle / MANIFEST
    manifest = json.loads(path.read_text("utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


def _nothing_written(opened: AssociationFile) -> None:
    with opened.read() as session:
        assert session.connection().execute(select(Household)).first() is None


@pytest.mark.parametrize("changes", [{"format_version": 2}, {"schema_revision": "0011"}])
def test_a_bundle_from_a_newer_kairan_is_refused(copy: Path, empty_file: AssociationFile,
                                                 changes: dict[str, object]) -> None:
    _rewrite_manifest(copy, kairan_version="9.0.0", **changes)
    with pytest.raises(NewerBundle, match=r"newer version of Kairan \(9\.0\.0\)"), \
            empty_file.write() as session:
        import_bundle(session, copy)
    _nothing_written(empty_file)


def test_a_table_with_an_unknown_column_is_refused_as_newer(copy: Path) -> None:
    manifest = json.loads((copy / MANIFEST).read_text("utf-8"))
    manifest["tables"]["household"]["columns"].append(
        {"name": "nickname", "type": "text", "nullable": False})
    (copy / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(NewerBundle, match="nickname"):
        import_into_new_file(copy, copy.parent / "new.kairan")
    assert not (copy.parent / "new.kairan").exists()


def test_an_edited_data_file_is_refused_naming_it(copy: Path,
                                                  empty_file: AssociationFile) -> None:
    path = copy / "data" / "household.json"
    path.write_text(path.read_text("utf-8").replace("服部 修", "服部 修二"), "utf-8")
    with pytest.raises(TamperedBundle, match=r"data/household\.json"), \
            empty_file.write() as session:
        import_bundle(session, copy)
    _nothing_written(empty_file)


def test_an_edited_audit_record_is_refused(copy: Path) -> None:
    path = copy / "data" / "audit_record.json"
    document = json.loads(path.read_text("utf-8"))
    document["rows"][-1]["actor"] = "誰か"
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    with pytest.raises(TamperedBundle, match="audit_record"):
        check_bundle(copy)


def test_a_missing_file_is_refused(copy: Path) -> None:
    (copy / "data" / "member.json").unlink()
    with pytest.raises(TamperedBundle, match=r"data/member\.json.*missing"):
        check_bundle(copy)


def test_a_consistently_forged_value_is_refused_with_where_it_is(copy: Path) -> None:
    _forge(copy, "household", 2, left_on="昨日")
    with pytest.raises(BundleProblem, match=r"data/household.json, row 3, column left_on"):
        import_into_new_file(copy, copy.parent / "new.kairan")
    assert not (copy.parent / "new.kairan").exists()


def _forge(bundle: Path, table: str, row: int, **values: object) -> None:
    """Change a row and its checksum too, as a careful forger would."""
    path = bundle / "data" / f"{table}.json"
    document = json.loads(path.read_text("utf-8"))
    document["rows"][row].update(values)
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    manifest = json.loads((bundle / MANIFEST).read_text("utf-8"))
    manifest["files"][f"data/{table}.json"]["sha256"] = sha256_of(path.read_bytes())
    (bundle / MANIFEST).write_text(json.dumps(manifest), "utf-8")


def test_a_row_pointing_at_nothing_is_refused(copy: Path, empty_file: AssociationFile) -> None:
    _forge(copy, "member", 0, household_id=str(uuid.uuid4()))
    with pytest.raises(BundleProblem, match=r"table member .* row of household"), \
            empty_file.write() as session:
        import_bundle(session, copy)
    _nothing_written(empty_file)


def test_two_rows_with_one_id_are_refused(copy: Path, empty_file: AssociationFile) -> None:
    first = json.loads((copy / "data" / "household.json").read_text("utf-8"))["rows"][0]
    _forge(copy, "household", 1, id=first["id"])
    with pytest.raises(BundleProblem, match=r"data/household\.json do not fit together"), \
            empty_file.write() as session:
        import_bundle(session, copy)


def test_a_manifest_path_outside_the_bundle_is_refused(copy: Path) -> None:
    manifest = json.loads((copy / MANIFEST).read_text("utf-8"))
    manifest["files"]["../../secret.txt"] = {"sha256": "0" * 64}
    (copy / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(BundleProblem, match="not a Kairan bundle manifest"):
        check_bundle(copy)


def test_something_else_is_not_a_bundle(tmp_path: Path) -> None:
    (tmp_path / "roster.xlsx").write_bytes(b"not a zip")
    with pytest.raises(BundleProblem, match="not a Kairan bundle"):
        check_bundle(tmp_path / "roster.xlsx")
    with pytest.raises(BundleProblem, match=r"no manifest\.json"):
        check_bundle(tmp_path)


def test_only_an_empty_file_takes_a_bundle(bundle: Path,
                                           association_file: AssociationFile) -> None:
    with pytest.raises(KairanError, match="new, empty Kairan file"), \
            association_file.write() as session:
        import_bundle(session, bundle)
