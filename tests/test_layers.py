"""The layering rule: domain, store, sync, reports and the CLI never import Qt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

QT_FREE_PACKAGES = ("desktop.domain", "desktop.store", "sync", "reports")
# Run by Alembic inside a migration context only; importing it on its own fails by design.
NOT_IMPORTABLE = frozenset({"desktop.store.migrations.env"})

_PROBE = textwrap.dedent(
    """
    import importlib, json, pkgutil, sys

    packages, skip = {packages!r}, {skip!r}
    imported = ["desktop.cli", "desktop.i18n", "desktop.paths"]
    for module in imported:
        importlib.import_module(module)
    for name in packages:
        package = importlib.import_module(name)
        imported.append(name)
        for info in pkgutil.walk_packages(package.__path__, prefix=name + "."):
            if info.name not in skip:
                importlib.import_module(info.name)
                imported.append(info.name)
    qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
    print(json.dumps({{"imported": imported, "qt": qt}}))
    """
)


def test_qt_free_layers_do_not_import_qt() -> None:
    code = _PROBE.format(packages=QT_FREE_PACKAGES, skip=sorted(NOT_IMPORTABLE))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["qt"] == []
    imported = set(report["imported"])
    # The walk really reached the modules (an empty walk would pass vacuously).
    for module in (
        "desktop.domain.households",
        "desktop.domain.roster",
        "desktop.store.association_file",
        "desktop.store.backups",
        "desktop.store.migrations.versions",
        "desktop.cli",
        "sync",
        "reports",
    ):
        assert module in imported


def test_the_window_starts_without_the_printing_libraries() -> None:
    """reportlab, pypdf and PDFium cost a third of a second: they load when first used."""
    code = ("import json, sys, desktop.ui.main_window; print(json.dumps(sorted(m for m in "
            "sys.modules if m.split('.')[0] in ('reportlab', 'pypdf', 'pypdfium2'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False, env={**os.environ,
                                                           "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == []
