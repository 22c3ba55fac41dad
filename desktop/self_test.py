"""``kairan --self-test``: prove that this installation of Kairan works on this PC, and exit.

Run from the installed (PyInstaller) folder it shows that nothing the program needs was left
out of the bundle: the migrations Alembic reads as files, the Japanese translation, the IPAex
fonts embedded into a PDF, the spreadsheet readers and writers, the CA certificates for the
relay, and Qt with its platform plugin painting the roster. Every step works in a throw-away
folder; the officer's own association file, settings and backups are never touched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TextIO

from desktop import __version__, paths
from desktop.i18n import N_, _, current_language, set_language

DEMO_HOUSEHOLDS = 40


class SelfTestFailed(Exception):
    """A step found something wrong; the message says what."""


@dataclass(slots=True)
class _Workspace:
    """What the steps hand on to each other."""

    folder: Path
    demo: Path | None = None
    roster_xlsx: Path | None = None


def _check(condition: bool, problem: str) -> None:
    if not condition:
        raise SelfTestFailed(problem)


def _association_file(work: _Workspace) -> str:
    from desktop.domain.roster import count_households
    from desktop.store.association_file import open_association
    from desktop.store.demo_file import create_demo_file

    work.demo = create_demo_file(work.folder / f"demo{paths.FILE_SUFFIX}",
                                 households=DEMO_HOUSEHOLDS, seed=1)
    opened = open_association(work.demo)  # the schema check and quick_check run here
    try:
        with opened.read() as session:
            count = count_households(session)
    finally:
        opened.close()
    _check(count == DEMO_HOUSEHOLDS,
           _("the demo file holds {count} households").format(count=count))
    return _("{count} households, schema up to date").format(count=count)


def _translation(_work: _Workspace) -> str:
    language = current_language()
    set_language("ja")
    try:
        japanese = _("&File")
    finally:
        set_language(language)
    _check(japanese != "&File", _("the Japanese translation is missing"))
    return japanese


def _roster_round_trip(work: _Workspace) -> str:
    from desktop.domain.association import create_association
    from desktop.domain.imports.pipeline import plan_file, read_roster
    from desktop.domain.imports.plan import apply_import
    from desktop.store.association_file import create_association_file, open_association
    from reports.roster_xlsx import export_roster

    assert work.demo is not None
    work.roster_xlsx = work.folder / "roster.xlsx"
    demo = open_association(work.demo)
    try:
        with demo.read() as session:
            exported = export_roster(session, work.roster_xlsx)
    finally:
        demo.close()
    fresh = create_association_file(work.folder / f"imported{paths.FILE_SUFFIX}")
    try:
        with fresh.write() as session:
            create_association(session, name="自己診断自治会")
        read = read_roster(work.roster_xlsx)
        with fresh.read() as session:
            plan = plan_file(session, read, sheets=read.usable)
        _check(not plan.errors, _("the exported roster does not import: {problem}").format(
            problem=plan.errors[:1]))
        with fresh.write() as session:
            result = apply_import(session, plan, withdraw_missing=False, create_groups=True,
                                  today=date.today())
    finally:
        fresh.close()
    _check(result.added == DEMO_HOUSEHOLDS,
           _("{added} of {count} households were imported").format(added=result.added,
                                                                   count=DEMO_HOUSEHOLDS))
    return _("{rows} rows out to .xlsx, {added} households back in").format(
        rows=exported, added=result.added)


def _pdf_page(work: _Workspace) -> str:
    import pypdfium2  # type: ignore[import-untyped]  # ships no type information

    from desktop.domain.association import current_year, get_association
    from desktop.store.association_file import open_association
    from reports.pdf import roster_pdf, roster_source

    assert work.demo is not None
    pdf = work.folder / "roster.pdf"
    today = date.today()
    opened = open_association(work.demo)
    try:
        with opened.read() as session:
            year = current_year(session, today=today)
            groups = roster_source.load_group_lists(session, year=year)
            pages = roster_pdf.render_group_lists(
                pdf, association=get_association(session).name, issued_on=today,
                groups=groups, year_label=roster_source.year_label(session, year=year))
    finally:
        opened.close()
    _check(b"IPAex" in pdf.read_bytes(), _("the IPAex font is not embedded in the PDF"))
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=1).to_pil().convert("L")
    finally:
        document.close()
    low, _high = image.getextrema()
    _check(low < 128, _("the first page of the PDF renders blank"))
    return _("{pages} pages, page 1 rendered at {width}×{height}").format(
        pages=pages, width=image.width, height=image.height)


def _certificates(_work: _Workspace) -> str:
    from sync.client import tls_context

    context = tls_context()
    count = len(context.get_ca_certs())
    _check(count > 0, _("no CA certificates to check the relay's certificate against"))
    return _("{count} CA certificates").format(count=count)


def _keyring(_work: _Workspace) -> str:
    import keyring

    # Informational: a PC without a keyring still runs; pairing explains the problem then.
    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _window(work: _Workspace) -> str:
    from desktop.ui.startup_probe import paint_roster_once

    assert work.demo is not None
    rows, width, height = paint_roster_once(work.demo)
    _check(rows == DEMO_HOUSEHOLDS, _("the window shows {rows} households").format(rows=rows))
    return _("roster painted, {rows} rows, {width}×{height}").format(
        rows=rows, width=width, height=height)


STEPS: tuple[tuple[str, Callable[[_Workspace], str]], ...] = (
    (N_("association file"), _association_file),
    (N_("Japanese translation"), _translation),
    (N_("roster to Excel and back"), _roster_round_trip),
    (N_("PDF with Japanese fonts"), _pdf_page),
    (N_("TLS certificates"), _certificates),
    (N_("keyring"), _keyring),
    (N_("window"), _window),
)


def run_self_test(out: TextIO | None = None) -> int:
    """Run every step, print one line each, and return the exit code (0: all passed)."""
    stream = out or sys.stdout
    print(_("Kairan {version} self-test ({platform}, Python {python})").format(
        version=__version__, platform=sys.platform, python=sys.version.split()[0]), file=stream)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kairan-self-test-") as folder:
        saved_home = os.environ.get("KAIRAN_HOME")
        os.environ["KAIRAN_HOME"] = str(Path(folder) / "home")  # settings, backups: throw-away
        try:
            work = _Workspace(Path(folder))
            for name, step in STEPS:
                started = time.perf_counter()
                try:
                    detail = step(work)
                except Exception as error:  # report every broken step, and go on
                    failed += 1
                    print(_("FAIL  {step}: {problem}").format(
                        step=_(name), problem=f"{type(error).__name__}: {error}"), file=stream)
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                print(_("ok    {step} ({ms} ms): {detail}").format(
                    step=_(name), ms=f"{elapsed:.0f}", detail=detail), file=stream)
        finally:
            if saved_home is None:
                os.environ.pop("KAIRAN_HOME", None)
            else:
                os.environ["KAIRAN_HOME"] = saved_home
    print(_("self-test passed") if not failed
          else _("self-test FAILED ({count} steps)").format(count=failed), file=stream)
    return 0 if not failed else 1
