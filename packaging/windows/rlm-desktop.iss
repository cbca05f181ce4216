; Inno Setup 6 script: the Windows installer for RLM Desktop.
; Built by packaging\windows\build.ps1 after PyInstaller has filled dist\rlm-desktop\:
;   iscc /DAppVersion=0.1.0 /DVariant=cpu packaging\windows\rlm-desktop.iss
; Installs per user by default (no administrator rights needed; the user may pick all users),
; puts RLM Desktop in the Start menu, optionally on the desktop and `rlm` on PATH.
; The user's library, models and settings live in %LOCALAPPDATA%\rlm-desktop and are kept on
; uninstall (documents and downloaded models are the user's data).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef Variant
  #define Variant "cpu"
#endif
#define AppName "RLM Desktop"
#define SourceDir "..\..\dist\rlm-desktop"

[Setup]
AppId={{6F1C2E7A-3B4D-4C8E-9A51-2D7B0E9F4A13}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=rlm-desktop
DefaultDirName={autopf}\RLM Desktop
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=RLM-Desktop-{#AppVersion}-windows-x64-{#Variant}-setup
SetupIconFile=..\..\build\icons\rlm-desktop.ico
UninstallDisplayIcon={app}\rlm-desktop.exe
UninstallDisplayName={#AppName}
WizardStyle=modern
; GGUF weights do not compress; lzma2/fast keeps the build quick for the same size.
Compression=lzma2/fast
SolidCompression=no
ChangesEnvironment=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the rlm command line to PATH"; GroupDescription: "Command line:"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\rlm-desktop.exe"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\rlm-desktop.exe"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; \
    Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\rlm-desktop.exe"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
