#!/usr/bin/env bash
# Installs the system packages PluginHost and its tests need on Debian 12 (idempotent: installs only what is missing).
set -euo pipefail
# prometheus: promtool validates /metrics in the API tests; chromium: the dashboard's browser test (Playwright drives it); systemd: systemd-analyze verifies the units in docs/deploy.
packages=(mariadb-server mariadb-client libzstd1 zlib1g openssl librdkafka1 kcat prometheus chromium systemd)
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

# A local NuGet feed (.local/feed, named in NuGet.config) with a stand-in librdkafka.redist that has no assets:
# Confluent.Kafka depends on that package, the NuGet registry here lacks it, and the Kafka plugin uses the system's
# librdkafka (Debian librdkafka1) instead. Packed once with the .NET SDK; later runs find it and do nothing.
root="$(cd "$(dirname "$0")/.." && pwd)"
stub_version=1.9.2.99
if [ ! -f "$root/.local/feed/librdkafka.redist.$stub_version.nupkg" ]; then
  work="$(mktemp -d)"
  cat > "$work/stub.nuspec" <<NUSPEC
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>librdkafka.redist</id>
    <version>$stub_version</version>
    <authors>PluginHost</authors>
    <description>Stand-in without native assets: PluginHost loads the system librdkafka (librdkafka.so.1).</description>
  </metadata>
  <files><file src="README.txt" target="README.txt" /></files>
</package>
NUSPEC
  echo "Empty stand-in for librdkafka.redist; see PluginHost's README (Kafka: the native library)." > "$work/README.txt"
  cat > "$work/stub.csproj" <<'CSPROJ'
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <NuspecFile>stub.nuspec</NuspecFile>
    <NoBuild>true</NoBuild>
    <IncludeBuildOutput>false</IncludeBuildOutput>
  </PropertyGroup>
</Project>
CSPROJ
  mkdir -p "$root/.local/feed"
  dotnet pack "$work/stub.csproj" -o "$work/out" --nologo -v quiet >/dev/null
  mv "$work/out/librdkafka.redist.$stub_version.nupkg" "$root/.local/feed/"
  rm -rf "$work"
  echo "setup: made the stand-in librdkafka.redist $stub_version in .local/feed" >&2
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
