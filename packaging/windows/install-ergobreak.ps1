<#
.SYNOPSIS
    Install or remove ergobreak for every user of this computer (Intune, GPO, SCCM).

.DESCRIPTION
    Install: a virtual environment under %ProgramFiles%\ergobreak (where AppLocker's
    default rules let users run programs), the policy in %ProgramData%\ergobreak
    (checked with `ergobreak config check --strict --policy` first; Administrators and SYSTEM
    may write, Users may only read), and the HKLM Run entry that starts ergobreak at
    every user's login (`ergobreak autostart enable --system`).

    Needs Python 3.10 or newer for all users (deploy python.org's installer first:
    `python-3.x-amd64.exe /quiet InstallAllUsers=1`), and administrator rights.
    Exit code 0 on success, non-zero on any failure (Intune reports it).

    UNTESTED: written against the documented behaviour of PowerShell 5.1, icacls
    and the Windows Run keys; the project's test suite runs on Linux only.

.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File install-ergobreak.ps1 -Package .\ergobreak-0.1.0-py3-none-any.whl -Policy .\policy.toml
.EXAMPLE
    powershell.exe -ExecutionPolicy Bypass -File install-ergobreak.ps1 -Uninstall
#>
[CmdletBinding()]
param(
    # A wheel file next to this script, or a requirement such as "ergobreak==0.1.0".
    [string]$Package = "ergobreak",
    # The organization's policy file; omitted: an installed policy is kept as it is.
    [string]$Policy = "",
    [string]$InstallDir = (Join-Path $env:ProgramFiles "ergobreak"),
    # python.exe to build the environment with; default: the py launcher's newest 3.x.
    [string]$Python = "",
    # Extra pip arguments, e.g. "--index-url https://pypi.example.internal/simple".
    [string]$PipArgs = "",
    [switch]$NoAutostart,
    [switch]$Uninstall,
    [switch]$KeepPolicy
)

$ErrorActionPreference = "Stop"
$PolicyDir = Join-Path $env:ProgramData "ergobreak"
$Venv = Join-Path $InstallDir "venv"
$Exe = Join-Path $Venv "Scripts\ergobreak.exe"

function Invoke-Checked([string]$What, [scriptblock]$Command) {
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)" }
}

$principal = New-Object Security.Principal.WindowsPrincipal([Security.Principal.WindowsIdentity]::GetCurrent())
if (-not $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
    Write-Error "run this as an administrator (Intune: install behavior 'System')"
    exit 1
}

if ($Uninstall) {
    # The policy first: a policy that enforces autostart refuses `autostart disable`.
    if (-not $KeepPolicy -and (Test-Path $PolicyDir)) { Remove-Item -Recurse -Force $PolicyDir }
    if (Test-Path $Exe) {
        & $Exe autostart disable --system
        if ($LASTEXITCODE -notin 0, 3) { throw "autostart disable failed (exit code $LASTEXITCODE)" }
    }
    if (Test-Path $InstallDir) { Remove-Item -Recurse -Force $InstallDir }
    Write-Output "ergobreak removed"
    exit 0
}

# 1. Python and the environment under %ProgramFiles%.
if (-not $Python) {
    try { $Python = (& py -3 -c "import sys; print(sys.executable)") } catch { $Python = "" }
    if (-not $Python) { throw "no Python found (py launcher): pass -Python C:\path\python.exe" }
}
Invoke-Checked "Python version check" {
    & $Python -c "import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)"
}
if (-not (Test-Path $Venv)) {
    Invoke-Checked "creating $Venv" { & $Python -m venv $Venv }
}
$pip = @("-m", "pip", "install", "--upgrade", "--no-input", "--disable-pip-version-check")
if ($PipArgs) { $pip += $PipArgs -split " " }
if (Test-Path $Package) { $Package = (Resolve-Path $Package).Path }
Invoke-Checked "pip install $Package" { & (Join-Path $Venv "Scripts\python.exe") @pip $Package }
Invoke-Checked "ergobreak --version" { & $Exe --version }

# 2. The policy: checked before it goes live; only admins and SYSTEM may change it.
if ($Policy) {
    Invoke-Checked "config check --strict --policy $Policy" { & $Exe config check --strict --policy $Policy }
    New-Item -ItemType Directory -Force -Path $PolicyDir | Out-Null
    # SIDs, not names, so this works on every Windows language:
    # S-1-5-32-544 Administrators, S-1-5-18 SYSTEM, S-1-5-32-545 Users.
    Invoke-Checked "icacls $PolicyDir" {
        icacls $PolicyDir /inheritance:r /grant:r "*S-1-5-32-544:(OI)(CI)F" "*S-1-5-18:(OI)(CI)F" "*S-1-5-32-545:(OI)(CI)RX"
    }
    Copy-Item -Force $Policy (Join-Path $PolicyDir "policy.toml")
}

# 3. Start at every user's login: HKLM\Software\Microsoft\Windows\CurrentVersion\Run.
if ($NoAutostart) {
    & $Exe autostart disable --system
    if ($LASTEXITCODE -notin 0, 3) { throw "autostart disable failed (exit code $LASTEXITCODE)" }
} else {
    Invoke-Checked "autostart enable --system" { & $Exe autostart enable --system }
}
Write-Output "ergobreak installed in $InstallDir"
exit 0
