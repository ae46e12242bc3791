#!/usr/bin/env bash
# Publishes the installable layout into OUT (default: out/ at the repository root):
#   OUT/pluginhost            the command (framework-dependent: the machine needs the .NET 10 runtime with ASP.NET Core)
#   OUT/*.dll                 the host and its dependencies
#   OUT/plugins/<name>/       the plugins shipped with it (Webhook, Kafka, UserFunctions): the default plugins_dir
# Copy OUT anywhere (e.g. /opt/pluginhost) and put it on PATH, or link OUT/pluginhost into /usr/local/bin.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$root/out}" && cd "${1:-$root/out}" && pwd)"
bash "$root/scripts/setup.sh"
# The solution build puts each plugin into artifacts/plugins/<name>/ (its DLL, dependencies and .deps.json, no sdk copy).
dotnet build "$root/PluginHost.sln" -c Release --nologo -v quiet
dotnet publish "$root/host/PluginHost.csproj" -c Release --no-build -o "$out" --nologo -v quiet
# The Release build precompiles Roslyn and YamlDotNet (host/ReadyToRun.targets) into obj/; publish copies the IL: take the
# precompiled ones, so the first transform compiles as fast as in the build output.
for dll in "$root"/host/obj/Release/net10.0/r2r/*/*.dll; do
  [ -f "$dll" ] && cp "$dll" "$out/"
done
rm -rf "$out/plugins"
mkdir -p "$out/plugins"
cp -R "$root/artifacts/plugins/." "$out/plugins/"
echo "published: $out/pluginhost (plugins in $out/plugins); try: $out/pluginhost --help" >&2
