"""Find every translatable string in the product code and compare with the catalogues.

``python -m tests.i18n_catalogue`` prints ``.po`` entries for strings that have no Japanese
translation yet, ready to be translated and appended to ``resources/translations/ja.po``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from desktop.i18n import parse_po

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_PACKAGES = ("desktop", "sync", "reports")
MARKERS = {"_", "N_"}


def translatable_strings() -> dict[str, str]:
    """Every literal passed to ``_()`` or ``N_()``, with the first place it appears."""
    found: dict[str, str] = {}
    for package in PRODUCT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in MARKERS and node.args
                        and isinstance(node.args[0], ast.Constant)
                        and isinstance(node.args[0].value, str)):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(node.args[0].value, where)
    return found


def catalogue(language: str) -> dict[str, str]:
    """The translations of one language."""
    path = ROOT / "resources" / "translations" / f"{language}.po"
    return parse_po(path.read_text(encoding="utf-8"))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main() -> int:
    """Print stub entries for the untranslated strings."""
    known = catalogue("ja")
    missing = {text: where for text, where in translatable_strings().items() if text not in known}
    for text, where in missing.items():
        print(f"#: {where}\nmsgid {_quote(text)}\nmsgstr \"\"\n")
    print(f"# {len(missing)} untranslated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
