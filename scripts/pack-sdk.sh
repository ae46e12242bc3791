#!/usr/bin/env bash
# Packs the plugin sdk (PluginHost.Sdk) and the `dotnet new` templates (PluginHost.Templates) into .local/packages,
# the local NuGet source named in NuGet.config that every plugin project restores PluginHost.Sdk from.
# Both are versioned with the host (PluginHostVersion in Directory.Build.props). Does nothing when the sources are
# unchanged since the last pack. Then, for plugins outside the repository:
#   dotnet new install .local/packages/PluginHost.Templates.<version>.nupkg
#   dotnet nuget add source "$PWD/.local/packages" --name pluginhost-local
# (docs/plugins.md, "Writing a plugin").
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.local/packages"
version="$(sed -n 's:.*<PluginHostVersion>\(.*\)</PluginHostVersion>.*:\1:p' "$root/Directory.Build.props")"
[ -n "$version" ] || { echo "pack-sdk: no <PluginHostVersion> in $root/Directory.Build.props" >&2; exit 1; }

# The stamp: every input of the two packages (file names and contents).
stamp="$(cd "$root" && find Directory.Build.props sdk templates -type f -not -path '*/bin/*' -not -path '*/obj/*' -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)"
if [ ! -f "$out/.stamp" ] || [ "$(cat "$out/.stamp")" != "$stamp" ] \
   || [ ! -f "$out/PluginHost.Sdk.$version.nupkg" ] || [ ! -f "$out/PluginHost.Templates.$version.nupkg" ]; then
  mkdir -p "$out"
  rm -f "$out"/PluginHost.Sdk.*.nupkg "$out"/PluginHost.Templates.*.nupkg "$out/.stamp"
  log="$(mktemp)"
  for project in sdk/PluginHost.Sdk.csproj templates/PluginHost.Templates.csproj; do
    dotnet pack "$root/$project" -c Release -o "$out" --nologo -v quiet >"$log" 2>&1 \
      || { cat "$log" >&2; rm -f "$log"; echo "pack-sdk: dotnet pack $project failed" >&2; exit 1; }
  done
  rm -f "$log"
  echo "$stamp" > "$out/.stamp"
  echo "pack-sdk: PluginHost.Sdk and PluginHost.Templates $version in $out" >&2
fi

# NuGet extracts a package once per version into its global folder (shared by every clone on the machine) and never
# looks again: when that copy of PluginHost.Sdk differs from this clone's (the sdk changed, the version did not),
# remove it so the next restore takes this one. The sdk's build is deterministic, so equal sources give equal DLLs.
packages="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
cached="$packages/pluginhost.sdk/$version"
if [ -d "$cached" ] && ! python3 -c 'import sys, zipfile
new = zipfile.ZipFile(sys.argv[1]).read("lib/net10.0/PluginHost.Sdk.dll")
sys.exit(0 if open(sys.argv[2], "rb").read() == new else 1)' "$out/PluginHost.Sdk.$version.nupkg" "$cached/lib/net10.0/PluginHost.Sdk.dll" 2>/dev/null; then
  rm -rf "$cached"
  echo "pack-sdk: removed the outdated PluginHost.Sdk $version from $packages" >&2
fi
