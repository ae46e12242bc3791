#!/usr/bin/env bash
# Installs the system packages PluginHost and its tests need on Debian 12 (idempotent: installs only what is missing).
set -euo pipefail
# prometheus: promtool validates /metrics in the API tests; chromium: the dashboard's browser test (Playwright drives it);
# kcat: a second Kafka client the Kafka tests read the mock cluster with (the plugin's librdkafka comes from NuGet);
# systemd: systemd-analyze verifies the units in docs/deploy.
packages=(mariadb-server mariadb-client libzstd1 zlib1g openssl kcat prometheus chromium systemd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The ReadyToRun compiler (crossgen2) for the SDK's runtime version, used by Release builds of the host to precompile
# the Roslyn assemblies (host/ReadyToRun.targets). Fetched into the NuGet cache once; if the registry lacks it, builds
# go on without precompiling (slower first transform compile, nothing else changes).
if ! ls "${NUGET_PACKAGES:-$HOME/.nuget/packages}"/microsoft.netcore.app.crossgen2.linux-x64/ >/dev/null 2>&1; then
  work="$(mktemp -d)"
  cat > "$work/fetch.csproj" <<'CSPROJ'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Microsoft.NETCore.App.Crossgen2.linux-x64" Version="[$(BundledNETCoreAppPackageVersion)]" />
  </ItemGroup>
</Project>
CSPROJ
  if dotnet restore "$work/fetch.csproj" --nologo -v quiet >/dev/null 2>&1; then
    echo "setup: fetched the ReadyToRun compiler (crossgen2)" >&2
  else
    echo "setup: the ReadyToRun compiler (crossgen2) is not available; Release builds keep IL-only compiler assemblies" >&2
  fi
  rm -rf "$work"
fi

# The plugin sdk and the `dotnet new` templates as packages in .local/packages (named in NuGet.config): every plugin
# project restores PluginHost.Sdk from there, so this runs before any restore. Does nothing when they are current.
bash "$(dirname "$0")/pack-sdk.sh"
