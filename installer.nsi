; Kairan's Windows installer (NSIS 3, Unicode, Modern UI 2), built from PyInstaller's one-folder
; bundle (kairan.spec -> dist\kairan).
;
;   makensis installer.nsi                       dist\kairan -> dist\Kairan-<version>-setup.exe
;   makensis -DDIST=path -DOUTFILE=path.exe installer.nsi
;   makensis -DCOMPRESSOR=zlib installer.nsi     quick builds (tests); default: /SOLID lzma
;
; It compiles with Debian's makensis as well as on Windows (the release workflow,
; .github/workflows/release.yml); tests/packaging checks what ends up inside.
;
; What it does on the officer's PC:
;   - installs for all users (Program Files, needs administrator rights) or just for the current
;     user (%LOCALAPPDATA%\Programs\Kairan, no administrator rights): the install-mode page, or
;     /AllUsers or /CurrentUser on the command line (with /S for a silent install);
;   - a Start-menu shortcut, an optional desktop shortcut, and the ".kairan" file association;
;   - an uninstaller registered in Apps & Features;
;   - upgrades in place: an existing installation is found through its Apps & Features entry and
;     updated in the same folder.
;
; The officer's data is NEVER touched, neither by the installer nor by the uninstaller: the
; association file, settings.ini and the backups live in the user data folder
; (%LOCALAPPDATA%\Kairan, platformdirs), which is outside the installation folder. That is also why
; an upgrade keeps the settings: it only replaces program files.

Unicode true

;--------------------------------
; The version: read from the project, never typed here.

!searchparse /file "${__FILEDIR__}\desktop\__init__.py" `__version__ = "` VERSION `"`

; VIProductVersion wants four numbers: "X.Y.Z" -> X.Y.Z.0, "X.Y" -> X.Y.0.0, "X.Y.ZrcN" -> X.Y.Z.0.
!macro _KAIRAN_NUMBER OUT IN
  !define /redef _KAIRAN_N "${IN}"
  !searchparse /noerrors "${_KAIRAN_N}" "" _KAIRAN_N "a"  ; pre-releases: a1, b1, rc1
  !searchparse /noerrors "${_KAIRAN_N}" "" _KAIRAN_N "b"
  !searchparse /noerrors "${_KAIRAN_N}" "" _KAIRAN_N "r"
  !searchparse /noerrors "${_KAIRAN_N}" "" _KAIRAN_N "c"
  !searchparse /noerrors "${_KAIRAN_N}" "" _KAIRAN_N "+"  ; local versions
  !if "${_KAIRAN_N}" == ""
    !define /redef _KAIRAN_N 0
  !endif
  !define /math ${OUT} ${_KAIRAN_N} + 0  ; (anything else counts as 0: only the four numbers)
  !undef _KAIRAN_N
!macroend
!searchparse /noerrors "${VERSION}" "" _KAIRAN_V1 "." _KAIRAN_V2 "." _KAIRAN_V3 "."
!define /ifndef _KAIRAN_V2 0
!define /ifndef _KAIRAN_V3 0
!insertmacro _KAIRAN_NUMBER VERSION_MAJOR "${_KAIRAN_V1}"
!insertmacro _KAIRAN_NUMBER VERSION_MINOR "${_KAIRAN_V2}"
!insertmacro _KAIRAN_NUMBER VERSION_PATCH "${_KAIRAN_V3}"
!define VERSION_FOUR "${VERSION_MAJOR}.${VERSION_MINOR}.${VERSION_PATCH}.0"

;--------------------------------
; Build options

!define /ifndef DIST "dist\kairan"
!define /ifndef OUTFILE "dist\Kairan-${VERSION}-setup.exe"
!ifdef COMPRESSOR
  SetCompressor ${COMPRESSOR}
!else
  SetCompressor /SOLID lzma
  SetCompressorDictSize 32
!endif

!define APP_NAME "Kairan"
!define /ifndef PUBLISHER "Kairan project"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_NAME}"
!define UNINSTALLER "Uninstall.exe"
!define ASSOC_EXT ".kairan"
!define PROGID "Kairan.AssociationFile"
!define ICON_IN_BUNDLE "_internal\resources\icons\kairan.ico"
; Values of the installer's own (not the application's) under HKCU: the chosen language.
!define INSTALLER_KEY "Software\Kairan"

; The bundle must be there; a Windows build has Kairan.exe, a Linux build (the packaging check of
; .ci/package) has Kairan: that one compiles too, but is of no use on Windows.
!if /FileExists "${DIST}\Kairan.exe"
  !define EXE_SUFFIX ".exe"
!else if /FileExists "${DIST}\Kairan"
  !define EXE_SUFFIX ""
  !warning "${DIST} is not a Windows bundle (no Kairan.exe): this installer only checks the packaging"
!else
  !error "No PyInstaller bundle in ${DIST} (build it with: pyinstaller --noconfirm kairan.spec)"
!endif
!define APP_EXE "Kairan${EXE_SUFFIX}"
!define CLI_EXE "kairan-cli${EXE_SUFFIX}"
!if ! /FileExists "${DIST}\${CLI_EXE}"
  !error "${DIST}\${CLI_EXE} is missing"
!endif
!if ! /FileExists "${DIST}\_internal\*"
  !error "${DIST}\_internal is missing"
!endif

Name "${APP_NAME}"
OutFile "${OUTFILE}"
BrandingText "${APP_NAME} ${VERSION}"
ManifestDPIAware true
ManifestSupportedOS all
ShowInstDetails show
ShowUninstDetails show

;--------------------------------
; All users or the current user (MultiUser.nsh). $INSTDIR of an earlier installation is read from
; its Apps & Features entry, and its mode becomes the default, so an upgrade lands on top of it.

!define MULTIUSER_EXECUTIONLEVEL Highest
!define MULTIUSER_MUI
!define MULTIUSER_INSTALLMODE_COMMANDLINE
!define MULTIUSER_USE_PROGRAMFILES64
!define MULTIUSER_INSTALLMODE_INSTDIR "${APP_NAME}"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_KEY "${UNINSTALL_KEY}"
!define MULTIUSER_INSTALLMODE_INSTDIR_REGISTRY_VALUENAME "InstallLocation"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_KEY "${UNINSTALL_KEY}"
!define MULTIUSER_INSTALLMODE_DEFAULT_REGISTRY_VALUENAME "UninstallString"
!define MULTIUSER_INIT_TEXT_ALLUSERSNOTPOSSIBLE "$(KairanAllUsersNotPossible)"
!define MULTIUSER_PAGE_CUSTOMFUNCTION_LEAVE InstallModeLeave
!include MultiUser.nsh
!include MUI2.nsh
!include LogicLib.nsh
!include FileFunc.nsh
!include WordFunc.nsh
!include Sections.nsh
!include x64.nsh

;--------------------------------
; Pages

!define MUI_ICON "${__FILEDIR__}\resources\icons\kairan.ico"
!define MUI_UNICON "${__FILEDIR__}\resources\icons\kairan.ico"
!define MUI_ABORTWARNING
!define MUI_UNABORTWARNING
!define MUI_COMPONENTSPAGE_SMALLDESC

; The language: asked once, then remembered.
!define MUI_LANGDLL_REGISTRY_ROOT HKCU
!define MUI_LANGDLL_REGISTRY_KEY "${INSTALLER_KEY}"
!define MUI_LANGDLL_REGISTRY_VALUENAME "InstallerLanguage"
!define MUI_LANGDLL_WINDOWTITLE "Kairan"
!define MUI_LANGDLL_INFO "言語を選んでください / Please select a language."

!insertmacro MUI_PAGE_WELCOME
!insertmacro MULTIUSER_PAGE_INSTALLMODE
!insertmacro MUI_PAGE_COMPONENTS
!define MUI_PAGE_CUSTOMFUNCTION_LEAVE DirectoryLeave
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN
!define MUI_FINISHPAGE_RUN_FUNCTION LaunchKairan
!insertmacro MUI_PAGE_FINISH

!define MUI_UNCONFIRMPAGE_TEXT_TOP "$(KairanUninstallTop)"
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

; Japanese first: the default.
!insertmacro MUI_LANGUAGE "Japanese"
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_RESERVEFILE_LANGDLL

;--------------------------------
; Texts of our own, in both languages (the rest comes from NSIS's language files).

LangString KairanSecProgram ${LANG_JAPANESE} "Kairan 本体（必須）"
LangString KairanSecProgram ${LANG_ENGLISH} "Kairan (required)"
LangString KairanSecProgramDesc ${LANG_JAPANESE} "Kairan のプログラムと、スタートメニューのショートカット。"
LangString KairanSecProgramDesc ${LANG_ENGLISH} "The Kairan program and its Start-menu shortcut."
LangString KairanSecDesktop ${LANG_JAPANESE} "デスクトップのショートカット"
LangString KairanSecDesktop ${LANG_ENGLISH} "Desktop shortcut"
LangString KairanSecDesktopDesc ${LANG_JAPANESE} "デスクトップに Kairan のアイコンを置きます。"
LangString KairanSecDesktopDesc ${LANG_ENGLISH} "Puts a Kairan icon on the desktop."
LangString KairanSecAssoc ${LANG_JAPANESE} "「.kairan」ファイルを Kairan で開く"
LangString KairanSecAssoc ${LANG_ENGLISH} "Open .kairan files with Kairan"
LangString KairanSecAssocDesc ${LANG_JAPANESE} "自治会のファイル（.kairan）をダブルクリックすると Kairan で開くようにします。"
LangString KairanSecAssocDesc ${LANG_ENGLISH} "Double-clicking an association file (.kairan) opens it in Kairan."
LangString KairanFileType ${LANG_JAPANESE} "Kairan 自治会ファイル"
LangString KairanFileType ${LANG_ENGLISH} "Kairan association file"
LangString KairanShortcutComment ${LANG_JAPANESE} "自治会・町内会の事務"
LangString KairanShortcutComment ${LANG_ENGLISH} "The office of your neighbourhood association"
LangString KairanRunning ${LANG_JAPANESE} "Kairan が起動しています。$\r$\n$\r$\nKairan を終了してから「再試行」を押してください。"
LangString KairanRunning ${LANG_ENGLISH} "Kairan is running.$\r$\n$\r$\nClose Kairan, then click Retry."
LangString KairanNewerInstalled ${LANG_JAPANESE} "このコンピューターには新しいバージョンの Kairan（$R0）がインストールされています。古いバージョン ${VERSION} に置き換えますか？$\r$\n$\r$\n自治会のデータはそのまま残りますが、新しいバージョンで保存したファイルは古いバージョンでは開けないことがあります。"
LangString KairanNewerInstalled ${LANG_ENGLISH} "A newer Kairan ($R0) is installed on this computer. Replace it with the older version ${VERSION}?$\r$\n$\r$\nYour association data stays where it is, but files saved by the newer version may not open in an older one."
LangString KairanForeignFolder ${LANG_JAPANESE} "このフォルダーには別のプログラムのファイル（_internal フォルダー）があります。Kairan 用に別のフォルダーを選んでください。"
LangString KairanForeignFolder ${LANG_ENGLISH} "This folder holds another program's files (an _internal folder). Please choose another folder for Kairan."
LangString KairanNeeds64Bit ${LANG_JAPANESE} "Kairan には 64 ビット版の Windows が必要です。"
LangString KairanNeeds64Bit ${LANG_ENGLISH} "Kairan needs a 64-bit version of Windows."
LangString KairanAllUsersNotPossible ${LANG_JAPANESE} "このコンピューターのすべてのユーザー向けに Kairan をインストール・削除するには、管理者の権限が必要です。"
LangString KairanAllUsersNotPossible ${LANG_ENGLISH} "Installing or removing Kairan for all users of this computer needs administrator rights."
LangString KairanUninstallTop ${LANG_JAPANESE} "Kairan をこのコンピューターから削除します。自治会のデータ（自治会のファイル、設定、バックアップ）は削除されず、そのまま残ります。"
LangString KairanUninstallTop ${LANG_ENGLISH} "Kairan will be removed from this computer. Your association data (the association file, settings and backups) is not removed."

VIProductVersion "${VERSION_FOUR}"
VIFileVersion "${VERSION_FOUR}"
!macro _KAIRAN_VERSION_INFO LANG DESCRIPTION
  VIAddVersionKey /LANG=${LANG} "ProductName" "${APP_NAME}"
  VIAddVersionKey /LANG=${LANG} "ProductVersion" "${VERSION}"
  VIAddVersionKey /LANG=${LANG} "FileVersion" "${VERSION}"
  VIAddVersionKey /LANG=${LANG} "FileDescription" "${DESCRIPTION}"
  VIAddVersionKey /LANG=${LANG} "CompanyName" "${PUBLISHER}"
  VIAddVersionKey /LANG=${LANG} "LegalCopyright" "${PUBLISHER}, MIT License"
!macroend
!insertmacro _KAIRAN_VERSION_INFO ${LANG_JAPANESE} "Kairan ${VERSION} セットアップ"
!insertmacro _KAIRAN_VERSION_INFO ${LANG_ENGLISH} "Kairan ${VERSION} Setup"

;--------------------------------
; Helpers shared by the installer and the uninstaller (functions need an "un." twin).

; Waits until Kairan is closed: a running program's .exe cannot be opened for writing. Leaves 0
; on the stack when Kairan is not running (any more), 1 when the officer cancelled (and at once in
; a silent run).
!macro _KAIRAN_IN_USE FILE
  ${If} ${FileExists} "${FILE}"
    ClearErrors
    FileOpen $0 "${FILE}" a  ; opens, changes nothing
    ${If} ${Errors}
      StrCpy $1 2
    ${Else}
      FileClose $0
    ${EndIf}
  ${EndIf}
!macroend
!macro _KAIRAN_WAIT_UNTIL_CLOSED
  Push $0
  Push $1
  ${Do}
    StrCpy $1 0
    !insertmacro _KAIRAN_IN_USE "$INSTDIR\${APP_EXE}"
    !insertmacro _KAIRAN_IN_USE "$INSTDIR\${CLI_EXE}"
    ${If} $1 = 0
      ${Break}
    ${EndIf}
    MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "$(KairanRunning)" /SD IDCANCEL IDRETRY retry
    StrCpy $1 1
    ${Break}
    retry:
  ${Loop}
  Exch $1  ; the caller's $1 back, the result on the stack
  Exch
  Pop $0  ; the caller's $0 back
!macroend
Function WaitUntilClosed
  !insertmacro _KAIRAN_WAIT_UNTIL_CLOSED
FunctionEnd
Function un.WaitUntilClosed
  !insertmacro _KAIRAN_WAIT_UNTIL_CLOSED
FunctionEnd

; Takes back the ".kairan" association, but only what is ours: if another program has taken
; ".kairan" over since, its default is left alone.
!macro _KAIRAN_UNASSOCIATE
  Push $0
  ReadRegStr $0 SHCTX "Software\Classes\${ASSOC_EXT}" ""
  ${If} $0 == "${PROGID}"
    DeleteRegValue SHCTX "Software\Classes\${ASSOC_EXT}" ""
  ${EndIf}
  DeleteRegValue SHCTX "Software\Classes\${ASSOC_EXT}\OpenWithProgids" "${PROGID}"
  DeleteRegKey /ifempty SHCTX "Software\Classes\${ASSOC_EXT}\OpenWithProgids"
  DeleteRegKey /ifempty SHCTX "Software\Classes\${ASSOC_EXT}"
  DeleteRegKey SHCTX "Software\Classes\${PROGID}"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'  ; SHCNE_ASSOCCHANGED
  Pop $0
!macroend
Function Unassociate
  !insertmacro _KAIRAN_UNASSOCIATE
FunctionEnd
Function un.Unassociate
  !insertmacro _KAIRAN_UNASSOCIATE
FunctionEnd

;--------------------------------
; The installer

Section "$(KairanSecProgram)" SecProgram
  SectionIn RO
  ; Again here, for silent installs (/S) that skip the pages: nothing is replaced while Kairan runs.
  Call CheckFolder
  ${If} ${Errors}
    Abort
  ${EndIf}
  Call WaitUntilClosed
  Pop $0
  ${If} $0 = 1
    Abort
  ${EndIf}

  ; An upgrade: the old _internal goes first, so that no library of the older version survives
  ; next to the new ones (CheckFolder made sure an _internal here is Kairan's). Settings and data
  ; are not in $INSTDIR and stay as they are.
  RMDir /r "$INSTDIR\_internal"

  SetOutPath "$INSTDIR"
  File "${DIST}\${APP_EXE}"
  File "${DIST}\${CLI_EXE}"
  SetOutPath "$INSTDIR\_internal"
  File /r "${DIST}\_internal\*"
  SetOutPath "$INSTDIR"

  WriteUninstaller "$INSTDIR\${UNINSTALLER}"

  ; One shortcut right in the Start menu's program list (no folder, as Windows 10 and 11 want).
  CreateShortcut "$SMPROGRAMS\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}" "" \
    "$INSTDIR\${ICON_IN_BUNDLE}" 0 SW_SHOWNORMAL "" "$(KairanShortcutComment)"

  ; Apps & Features
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\${ICON_IN_BUNDLE}"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "UninstallString" \
    '"$INSTDIR\${UNINSTALLER}" /$MultiUser.InstallMode'
  WriteRegStr SHCTX "${UNINSTALL_KEY}" "QuietUninstallString" \
    '"$INSTDIR\${UNINSTALLER}" /$MultiUser.InstallMode /S'
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "NoRepair" 1
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "VersionMajor" ${VERSION_MAJOR}
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "VersionMinor" ${VERSION_MINOR}
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD SHCTX "${UNINSTALL_KEY}" "EstimatedSize" $0
SectionEnd

Section "$(KairanSecDesktop)" SecDesktop
  CreateShortcut "$DESKTOP\${APP_NAME}.lnk" "$INSTDIR\${APP_EXE}" "" \
    "$INSTDIR\${ICON_IN_BUNDLE}" 0 SW_SHOWNORMAL "" "$(KairanShortcutComment)"
SectionEnd

Section "$(KairanSecAssoc)" SecAssociation
  WriteRegStr SHCTX "Software\Classes\${ASSOC_EXT}" "" "${PROGID}"
  WriteRegStr SHCTX "Software\Classes\${ASSOC_EXT}\OpenWithProgids" "${PROGID}" ""
  WriteRegStr SHCTX "Software\Classes\${PROGID}" "" "$(KairanFileType)"
  WriteRegStr SHCTX "Software\Classes\${PROGID}\DefaultIcon" "" "$INSTDIR\${ICON_IN_BUNDLE},0"
  WriteRegStr SHCTX "Software\Classes\${PROGID}\shell\open\command" "" \
    '"$INSTDIR\${APP_EXE}" --db "%1"'
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'  ; SHCNE_ASSOCCHANGED
SectionEnd

; Runs last: what the officer left out now is also taken away from an earlier installation, and
; the choices are remembered for the next upgrade.
Section "-Choices"
  ${If} ${SectionIsSelected} ${SecDesktop}
    WriteRegStr SHCTX "${UNINSTALL_KEY}" "KairanDesktopShortcut" "1"
  ${Else}
    Delete "$DESKTOP\${APP_NAME}.lnk"
    WriteRegStr SHCTX "${UNINSTALL_KEY}" "KairanDesktopShortcut" "0"
  ${EndIf}
  ${If} ${SectionIsSelected} ${SecAssociation}
    WriteRegStr SHCTX "${UNINSTALL_KEY}" "KairanFileAssociation" "1"
  ${Else}
    Call Unassociate
    WriteRegStr SHCTX "${UNINSTALL_KEY}" "KairanFileAssociation" "0"
  ${EndIf}
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecProgram} "$(KairanSecProgramDesc)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "$(KairanSecDesktopDesc)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAssociation} "$(KairanSecAssocDesc)"
!insertmacro MUI_FUNCTION_DESCRIPTION_END

;--------------------------------
; The installer's functions (after the sections: they name them)

Var CommandLineInstDir  ; /D=... wins over the folder MultiUser.nsh picks

Function .onInit
  StrCpy $CommandLineInstDir $INSTDIR
  !insertmacro MUI_LANGDLL_DISPLAY
  ${IfNot} ${IsNativeAMD64}
  ${AndIfNot} ${IsNativeARM64}  ; Windows 11 on ARM runs x64 programs
    MessageBox MB_OK|MB_ICONSTOP "$(KairanNeeds64Bit)" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  SetRegView 64  ; a 64-bit program: its Apps & Features entry and file type are not in WOW6432Node
  !insertmacro MULTIUSER_INIT
  Call UseCommandLineInstDir
  Call RememberedChoices
FunctionEnd

Function InstallModeLeave
  Call UseCommandLineInstDir
  Call RememberedChoices
FunctionEnd

Function UseCommandLineInstDir
  ${If} $CommandLineInstDir != ""
    StrCpy $INSTDIR $CommandLineInstDir
  ${EndIf}
FunctionEnd

; An upgrade keeps what the officer chose the first time (no desktop icon, no association).
Function RememberedChoices
  Push $0
  ReadRegStr $0 SHCTX "${UNINSTALL_KEY}" "KairanDesktopShortcut"
  ${If} $0 == "0"
    !insertmacro UnselectSection ${SecDesktop}
  ${ElseIf} $0 == "1"
    !insertmacro SelectSection ${SecDesktop}
  ${EndIf}
  ReadRegStr $0 SHCTX "${UNINSTALL_KEY}" "KairanFileAssociation"
  ${If} $0 == "0"
    !insertmacro UnselectSection ${SecAssociation}
  ${ElseIf} $0 == "1"
    !insertmacro SelectSection ${SecAssociation}
  ${EndIf}
  Pop $0
FunctionEnd

; Never mix Kairan into another PyInstaller program's folder (they all have an _internal folder,
; and an upgrade replaces _internal as a whole). Sets the error flag when the folder is not usable.
Function CheckFolder
  ClearErrors
  ${If} ${FileExists} "$INSTDIR\_internal\*"
  ${AndIfNot} ${FileExists} "$INSTDIR\${APP_EXE}"
  ${AndIfNot} ${FileExists} "$INSTDIR\${CLI_EXE}"
    MessageBox MB_OK|MB_ICONSTOP "$(KairanForeignFolder)" /SD IDOK
    SetErrors
  ${EndIf}
FunctionEnd

Function DirectoryLeave
  Call CheckFolder
  ${If} ${Errors}
    Abort  ; stays on the page
  ${EndIf}
  ; A downgrade? Only a warning: the officer may go back to an older version on purpose.
  ReadRegStr $R0 SHCTX "${UNINSTALL_KEY}" "DisplayVersion"
  ${If} $R0 != ""
    ${VersionCompare} "$R0" "${VERSION}" $0
    ${If} $0 = 1
      MessageBox MB_YESNO|MB_ICONEXCLAMATION|MB_DEFBUTTON2 "$(KairanNewerInstalled)" IDYES downgrade
      Abort
      downgrade:
    ${EndIf}
  ${EndIf}
  Call WaitUntilClosed
  Pop $0
  ${If} $0 = 1
    Abort
  ${EndIf}
FunctionEnd

; Started through Explorer so that Kairan runs as the signed-in officer, not elevated (an
; installation for all users runs as administrator).
Function LaunchKairan
  Exec '"$WINDIR\explorer.exe" "$INSTDIR\${APP_EXE}"'
FunctionEnd

;--------------------------------
; The uninstaller: removes exactly what the installer put there, and nothing of the officer's.

Function un.onInit
  !insertmacro MUI_UNGETLANGUAGE
  SetRegView 64
  ; The UninstallString says /AllUsers or /CurrentUser: the mode of the installation.
  !insertmacro MULTIUSER_UNINIT
FunctionEnd

Section "Uninstall"
  Call un.WaitUntilClosed
  Pop $0
  ${If} $0 = 1
    Abort
  ${EndIf}

  Delete "$SMPROGRAMS\${APP_NAME}.lnk"
  Delete "$DESKTOP\${APP_NAME}.lnk"
  Call un.Unassociate

  ; The program files, by name. Only _internal (PyInstaller's folder of the program's own
  ; libraries and data) goes as a whole. $INSTDIR itself is removed only if it is empty now: the
  ; officer may have chosen a folder that holds files of their own.
  Delete "$INSTDIR\${APP_EXE}"
  Delete "$INSTDIR\${CLI_EXE}"
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${UNINSTALLER}"
  RMDir "$INSTDIR"

  DeleteRegKey SHCTX "${UNINSTALL_KEY}"
  DeleteRegValue HKCU "${INSTALLER_KEY}" "InstallerLanguage"
  DeleteRegKey /ifempty HKCU "${INSTALLER_KEY}"
SectionEnd
