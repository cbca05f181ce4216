# Build the Windows artifacts of RLM Desktop.
#
#   dist\rlm-desktop\                                        the frozen app (rlm-desktop.exe + rlm.exe)
#   dist\rlm-desktop-<version>-windows-x64-<variant>.zip     portable folder
#   dist\RLM-Desktop-<version>-windows-x64-<variant>-setup.exe   Inno Setup installer
#
# Usage (from any directory):  powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1
# Environment:
#   PYTHON        interpreter with the project and PyInstaller installed (default: .venv\Scripts\python.exe)
#   RLM_GPU       cpu | cuda | vulkan: first reinstall llama-cpp-python with that backend
#                 (packaging\llama_build.py, see packaging\GPU.md). Unset: package the
#                 llama-cpp-python installed, named as the cpu variant.
#   ISCC          path of Inno Setup's ISCC.exe (default: PATH, then Program Files)
#   WINDOWS_CERT_PFX, WINDOWS_CERT_PASSWORD   optional: sign the executables and the installer
param([switch]$NoInstaller)
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path "$PSScriptRoot\..\..").Path
Set-Location $Root
$Python = if ($env:PYTHON) { $env:PYTHON } else { "$Root\.venv\Scripts\python.exe" }
$Variant = if ($env:RLM_GPU) { $env:RLM_GPU } else { "cpu" }
$Started = Get-Date

function Invoke-Checked([string]$What, [scriptblock]$Block) {
    & $Block
    if ($LASTEXITCODE -ne 0) { throw "build.ps1: $What failed (exit $LASTEXITCODE)" }
}

Invoke-Checked "PyInstaller check" { & $Python -c "import PyInstaller" }
if ($env:RLM_GPU) {
    Write-Host "==> llama-cpp-python with the $Variant backend"
    Invoke-Checked "llama.cpp $Variant build" { & $Python packaging\llama_build.py $Variant }
}
$Version = (& $Python -c "import importlib.metadata as m; print(m.version('rlm-desktop'))").Trim()

Write-Host "==> icons"
Invoke-Checked "make_icons" { & $Python packaging\make_icons.py }

Write-Host "==> PyInstaller ($Version, $Variant)"
Invoke-Checked "PyInstaller" {
    & $Python -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build\pyinstaller packaging\rlm_desktop.spec
}
Invoke-Checked "smoke check" { & dist\rlm-desktop\rlm.exe --version }

function Sign-Files([string[]]$Files) {
    if (-not $env:WINDOWS_CERT_PFX) { return }
    $SignTool = Get-ChildItem "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe" | Sort-Object FullName | Select-Object -Last 1
    foreach ($File in $Files) {
        Invoke-Checked "signing $File" {
            & $SignTool.FullName sign /f $env:WINDOWS_CERT_PFX /p $env:WINDOWS_CERT_PASSWORD /fd sha256 `
                /tr http://timestamp.digicert.com /td sha256 $File
        }
    }
}
Sign-Files @("dist\rlm-desktop\rlm-desktop.exe", "dist\rlm-desktop\rlm.exe")

Write-Host "==> zip"
$Zip = "dist\rlm-desktop-$Version-windows-x64-$Variant.zip"
if (Test-Path $Zip) { Remove-Item $Zip }
Compress-Archive -Path dist\rlm-desktop -DestinationPath $Zip -CompressionLevel Optimal

if (-not $NoInstaller) {
    Write-Host "==> Inno Setup"
    $Iscc = $env:ISCC
    if (-not $Iscc) { $Iscc = (Get-Command iscc.exe -ErrorAction SilentlyContinue).Source }
    if (-not $Iscc) { $Iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe" }
    if (-not (Test-Path $Iscc)) { throw "build.ps1: Inno Setup 6 not found (choco install innosetup, or set ISCC)" }
    Invoke-Checked "ISCC" { & $Iscc "/DAppVersion=$Version" "/DVariant=$Variant" packaging\windows\rlm-desktop.iss }
    Sign-Files @("dist\RLM-Desktop-$Version-windows-x64-$Variant-setup.exe")
}

$Seconds = [int]((Get-Date) - $Started).TotalSeconds
Write-Host "==> done in $Seconds s"
Get-ChildItem dist\*.zip, dist\*-setup.exe | ForEach-Object { "{0}  {1:N0} MiB" -f $_.Name, ($_.Length / 1MB) }
