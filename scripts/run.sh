#!/usr/bin/env bash
# Runs the main job. With no arguments: the embedded demo (a throwaway MariaDB, a sample pipeline with a C# transform,
# the dashboard and REST API). With arguments: passes them to pluginhost (e.g. run --config pluginhost.yaml); relative
# paths in them are relative to the folder you run this from. The installed layout is scripts/publish.sh's (docs/cli.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
# What a run needs: the host, and the plugins into artifacts/plugins/<name>/ where the demo and configs find them —
# every project of the solution but those under tests/ (the tests and benchmarks would take as long again to build).
# A solution filter written into .local/ names them, so a project added to the solution is built without a change here.
mkdir -p "$root/.local"
filter="$root/.local/run.slnf"
projects="$(sed -n 's/^Project("[^"]*") = "[^"]*", "\([^"]*\.csproj\)".*/\1/p' "$root/PluginHost.sln" \
  | grep -v '^tests\\' | sed 's/\\/\\\\/g; s/.*/      "&"/; $!s/$/,/')"
printf '{\n  "solution": {\n    "path": "../PluginHost.sln",\n    "projects": [\n%s\n    ]\n  }\n}\n' "$projects" > "$filter.$$"
mv "$filter.$$" "$filter"
host="$root/host/bin/Release/net10.0/pluginhost.dll"
if [ ! -f "$host" ]; then
  echo "run.sh: building the host and its plugins (the first build takes a few minutes; later runs only check it) …" >&2
fi
if ! build_log="$(dotnet build "$filter" -c Release --nologo -v quiet 2>&1)"; then
  printf '%s\n' "$build_log" >&2
  echo "run.sh: the build failed (above)" >&2
  exit 1
fi
if [ $# -eq 0 ]; then set -- demo; fi
exec dotnet "$host" "$@"
