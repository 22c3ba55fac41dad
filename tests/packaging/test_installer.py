"""The Windows installer (installer.nsi), compiled with makensis and looked into with 7z.

Debian's ``nsis`` and ``p7zip-full`` are enough: the installer compiles on Linux against a
one-folder bundle (a fake one made here, or the real one ``.ci/package`` builds and names in
KAIRAN_BUNDLE and KAIRAN_INSTALLER). What the installer does on Windows is checked by hand there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import desktop

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "installer.nsi"
MIGRATIONS = REPO / "desktop" / "store" / "migrations" / "versions"
MAKENSIS = shutil.which("makensis")
SEVEN_ZIP = shutil.which("7z")

needs_tools = pytest.mark.skipif(
    MAKENSIS is None or SEVEN_ZIP is None,
    reason="makensis and 7z are not on PATH (Debian: apt-get install nsis p7zip-full)",
)

# What a one-folder bundle holds, beside the two programs (tiny stand-ins here).
BUNDLE_DATA = (
    "_internal/resources/fonts/ipaexg.ttf",
    "_internal/resources/fonts/ipaexm.ttf",
    "_internal/resources/fonts/IPA_Font_License.txt",
    "_internal/resources/translations/ja.po",
    "_internal/resources/icons/kairan.ico",
    "_internal/desktop/store/migrations/versions/0001_first.py",
    "_internal/base_library.zip",
)


def makensis(*arguments: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    assert MAKENSIS is not None
    result = subprocess.run(
        [MAKENSIS, "-V2", *map(str, arguments)], cwd=cwd, capture_output=True, text=True,
        encoding="utf-8", errors="replace", timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def seven_zip(*arguments: str | Path) -> bytes:
    assert SEVEN_ZIP is not None
    result = subprocess.run(
        [SEVEN_ZIP, *map(str, arguments)], capture_output=True, timeout=120, check=False,
    )
    # 1 is a warning: the PE reader says the installer's data follows the stub.
    assert result.returncode in (0, 1), text(result.stdout) + text(result.stderr)
    return result.stdout


def text(output: bytes) -> str:
    """7z's listing as text, with "\n" line ends on Windows too."""
    return output.decode(errors="replace").replace("\r\n", "\n")


def installed_files(installer: Path) -> list[str]:
    """What the installer writes, relative to the installation folder, with "/" between parts.

    7z lists the files an NSIS installer extracts under their output folder with $INSTDIR left
    out ("_internal/resources/fonts/ipaexg.ttf"); other 7z versions keep it, so it goes either
    way. NSIS's own plug-ins (under $PLUGINSDIR, a temporary folder) are not installed files,
    nor is the "[NSIS].nsi" some 7z versions show (the script, as 7z reads it back).
    """
    listing = text(seven_zip("l", "-slt", installer))
    header, _, entries = listing.partition("\n----------\n")
    assert "Type = Nsis" in header, listing
    files = []
    for line in entries.splitlines():
        if line.startswith("Path = "):
            path = line.removeprefix("Path = ").replace("\\", "/").removeprefix("$INSTDIR/")
            if not path.startswith(("$PLUGINSDIR/", "[NSIS]")):
                files.append(path)
    assert files, listing
    return files


def version_info(installer: Path) -> dict[str, str]:
    """The VERSIONINFO strings of the installer .exe (7z reads it as .rsrc/<lang>/version.txt)."""
    listing = text(seven_zip("l", "-tPE", "-slt", installer))
    # One per language (1041 Japanese, 1033 English), with the same numbers.
    names = re.findall(r"^Path = (\.rsrc[/\\]\d+[/\\]version\.txt)$", listing, re.MULTILINE)
    assert names, listing
    raw = seven_zip("x", "-tPE", "-so", installer, names[0])
    resource = raw.decode("utf-16") if raw.startswith(b"\xff\xfe") else raw.decode("utf-16-le")
    return dict(re.findall(r'VALUE\s+"(\w+)",\s+"([^"]*)"', resource))


def fake_bundle(folder: Path, *, suffix: str = ".exe") -> Path:
    """A one-folder bundle of tiny files, laid out as kairan.spec builds it."""
    for name in (f"Kairan{suffix}", f"kairan-cli{suffix}", *BUNDLE_DATA):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())
    return folder


@needs_tools
def test_installer_holds_the_bundle_and_the_projects_version(tmp_path: Path) -> None:
    # The defaults: dist\kairan in, dist\Kairan-<version>-setup.exe out (from where makensis
    # runs, with -NOCD); -WX: a warning fails the build.
    fake_bundle(tmp_path / "dist" / "kairan")
    makensis("-NOCD", "-WX", "-DCOMPRESSOR=zlib", SCRIPT, cwd=tmp_path)
    installer = tmp_path / "dist" / f"Kairan-{desktop.__version__}-setup.exe"
    assert installer.is_file()

    files = installed_files(installer)
    assert sorted(files) == sorted(["Kairan.exe", "kairan-cli.exe", "Uninstall.exe", *BUNDLE_DATA])

    info = version_info(installer)
    assert info["ProductName"] == "Kairan"
    assert info["ProductVersion"] == desktop.__version__
    assert info["FileVersion"] == desktop.__version__


@needs_tools
def test_installer_compiles_against_a_linux_bundle(tmp_path: Path) -> None:
    # .ci/package builds the bundle on Linux: no .exe, and the compile says it is only a check.
    bundle = fake_bundle(tmp_path / "kairan", suffix="")
    installer = tmp_path / "Kairan-check.exe"
    result = makensis(f"-DDIST={bundle}", f"-DOUTFILE={installer}", "-DCOMPRESSOR=zlib", SCRIPT,
                      cwd=tmp_path)
    assert "not a Windows bundle" in result.stdout + result.stderr
    assert sorted(installed_files(installer)) == sorted(
        ["Kairan", "kairan-cli", "Uninstall.exe", *BUNDLE_DATA])


@needs_tools
def test_installer_refuses_a_missing_bundle(tmp_path: Path) -> None:
    assert MAKENSIS is not None
    result = subprocess.run(
        [MAKENSIS, "-V2", f"-DDIST={tmp_path / 'nothing'}", f"-DOUTFILE={tmp_path / 'x.exe'}",
         "-DCOMPRESSOR=zlib", str(SCRIPT)], cwd=tmp_path, capture_output=True, text=True,
        encoding="utf-8", errors="replace", timeout=120, check=False,
    )
    assert result.returncode != 0
    assert "No PyInstaller bundle" in result.stdout + result.stderr
    assert not (tmp_path / "x.exe").exists()


def script_lines() -> list[str]:
    """installer.nsi without its comments (";" lines and "  ; ..." at the end of a line)."""
    lines = []
    for line in SCRIPT.read_text(encoding="utf-8").splitlines():
        code = re.sub(r"(^|\s);.*$", "", line).strip()
        if code:
            lines.append(code)
    return lines


def test_uninstaller_never_removes_the_folder_or_the_officers_data() -> None:
    code = "\n".join(script_lines())
    # $INSTDIR may be a folder the officer chose and filled: only _internal, the program's own
    # folder, goes as a whole.
    assert not re.search(r'RMDir\s+/r\s+"?\$INSTDIR"?(\s|$)', code, re.IGNORECASE)
    targets = re.findall(r"RMDir\s+/r\s+(\S+)", code, re.IGNORECASE)
    assert targets
    assert {target.strip('"') for target in targets} == {r"$INSTDIR\_internal"}
    # Files go by name, never by wildcard.
    assert not re.search(r"^Delete\s.*[*?]", code, re.IGNORECASE | re.MULTILINE)
    # The association file, settings and backups live in %LOCALAPPDATA%\Kairan: no line of the
    # script names the user folders at all.
    for folder in ("$LOCALAPPDATA", "$APPDATA", "$PROFILE", "$DOCUMENTS", "LOCALAPPDATA%",
                   "APPDATA%"):
        assert folder.lower() not in code.lower(), folder


def test_version_is_read_from_the_project_not_typed_twice() -> None:
    text = SCRIPT.read_text(encoding="utf-8")
    assert desktop.__version__ not in text
    assert re.search(r'!searchparse\s+/file\s+"[^"]*desktop\\__init__\.py"', text)


def test_every_text_of_our_own_is_in_japanese_and_english() -> None:
    code = "\n".join(script_lines())
    defined: dict[str, set[str]] = {}
    for name, language in re.findall(r"^LangString\s+(\w+)\s+\$\{LANG_(\w+)\}", code,
                                     re.MULTILINE):
        defined.setdefault(name, set()).add(language)
    assert defined
    assert all(languages == {"JAPANESE", "ENGLISH"} for languages in defined.values()), defined
    used = set(re.findall(r"\$\((Kairan\w+)\)", code))
    assert used == set(defined)
    # Japanese is the first language, so the default.
    languages = re.findall(r'MUI_LANGUAGE\s+"(\w+)"', code)
    assert languages == ["Japanese", "English"]


BUNDLE = os.environ.get("KAIRAN_BUNDLE")
INSTALLER = os.environ.get("KAIRAN_INSTALLER")


@needs_tools
@pytest.mark.skipif(
    not (BUNDLE and INSTALLER),
    reason="KAIRAN_BUNDLE and KAIRAN_INSTALLER name a built dist/kairan and the installer "
           "compiled from it (.ci/package sets them)",
)
def test_real_installer_holds_every_file_of_the_real_bundle() -> None:
    assert BUNDLE and INSTALLER
    bundle, installer = Path(BUNDLE), Path(INSTALLER)
    assert bundle.is_dir(), bundle
    assert installer.is_file(), installer
    # makensis follows symbolic links (a Linux bundle has some): so does the walk.
    in_bundle = set()
    for folder, _, names in os.walk(bundle, followlinks=True):
        for name in names:
            in_bundle.add((Path(folder) / name).relative_to(bundle).as_posix())
    files = installed_files(installer)
    assert len(files) == len(set(files)), "a file is written twice"
    assert in_bundle - set(files) == set()
    assert set(files) - in_bundle == {"Uninstall.exe"}

    suffix = ".exe" if "Kairan.exe" in in_bundle else ""
    assert {f"Kairan{suffix}", f"kairan-cli{suffix}"} <= in_bundle
    data = {path for path in BUNDLE_DATA if "migrations" not in path and "base_library" not in path}
    assert data <= set(files)
    migrations = {f"_internal/desktop/store/migrations/versions/{path.name}"
                  for path in MIGRATIONS.glob("*.py")}
    assert migrations
    assert migrations <= set(files)
    assert version_info(installer)["ProductVersion"] == desktop.__version__
