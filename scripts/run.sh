#!/usr/bin/env bash
# Runs the main job. With no arguments: the embedded demo (a throwaway MariaDB, a sample schema, changes flowing
# through a sample pipeline). With arguments: passes them to pluginhost (e.g. run --config pluginhost.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dotnet build host/PluginHost.csproj -c Release --nologo -v quiet -o artifacts/host >/dev/null
if [ $# -eq 0 ]; then set -- demo; fi
exec dotnet artifacts/host/pluginhost.dll "$@"
