#!/usr/bin/env bash
# Runs the main job. With no arguments: the embedded demo (a throwaway MariaDB, a sample schema, changes flowing
# through a sample pipeline to stdout). With arguments: passes them to pluginhost (e.g. run --config pluginhost.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The whole solution: the host, and the plugins into artifacts/plugins/<name>/ where the demo and configs find them.
dotnet build PluginHost.sln -c Release --nologo -v quiet >/dev/null
if [ $# -eq 0 ]; then set -- demo; fi
exec dotnet host/bin/Release/net10.0/pluginhost.dll "$@"
