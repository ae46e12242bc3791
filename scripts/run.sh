#!/usr/bin/env bash
# Runs the main job. With no arguments: the embedded demo (a throwaway MariaDB, a sample pipeline with a C# transform,
# the dashboard and REST API). With arguments: passes them to pluginhost (e.g. run --config pluginhost.yaml); relative
# paths in them are relative to the folder you run this from. The installed layout is scripts/publish.sh's (docs/cli.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
# The whole solution: the host, and the plugins into artifacts/plugins/<name>/ where the demo and configs find them.
if ! build_log="$(dotnet build "$root/PluginHost.sln" -c Release --nologo -v quiet 2>&1)"; then
  printf '%s\n' "$build_log" >&2
  echo "run.sh: the build failed (above)" >&2
  exit 1
fi
if [ $# -eq 0 ]; then set -- demo; fi
exec dotnet "$root/host/bin/Release/net10.0/pluginhost.dll" "$@"
