using System.Text.Json;
using Microsoft.Extensions.Logging;
using PluginHost.Config;

namespace PluginHost.Control;

/// <summary>Reading the configuration file again and applying it pipeline by pipeline (<c>POST /reload</c>).</summary>
internal sealed partial class PipelineControl
{
    /// <summary>
    /// <c>POST /reload</c>: reads the configuration file again and applies it pipeline by pipeline (added ones start,
    /// changed ones restart with the new definition, removed ones stop; unchanged ones are not touched). An invalid
    /// file changes nothing. Pipelines the API created or replaced keep the API's definition.
    /// </summary>
    public Task<ReloadResult> ReloadAsync(CancellationToken ct) => Locked(ct, async () =>
    {
        HostConfig next;
        try
        {
            try
            {
                next = ConfigLoader.Load(_fileConfig.FilePath, sinkTypes: _sinks.Types);
            }
            catch (ConfigException e)
            {
                var secrets = Entries().SelectMany(x => Secrets.ValuesOf(x.Definition)).ToList();
                throw new ControlException(ControlErrorKind.Invalid, "Invalid configuration",
                    $"{_fileConfig.FilePath} was not applied ({e.Errors.Count} problem{(e.Errors.Count == 1 ? "" : "s")}); nothing changed",
                    ControlException.ErrorsOf(e.Errors, pipelinePrefix: true, secrets));
            }
            var current = Entries();
            var fileOwned = current.Where(x => x.Origin == PipelineOrigin.File).ToDictionary(x => x.Name, StringComparer.Ordinal);
            var wanted = next.Pipelines.Where(p => !_store.Deleted.Contains(p.Name) && _store.Find(p.Name) is null).ToList();
            var overridden = next.Pipelines.Where(p => _store.Find(p.Name) is not null || _store.Deleted.Contains(p.Name)).Select(p => p.Name).ToList();
            var added = wanted.Where(p => !fileOwned.ContainsKey(p.Name)).ToList();
            var changed = wanted.Where(p => fileOwned.TryGetValue(p.Name, out var o) && PipelineOptionsJson.CanonicalOf(o.Definition!) != PipelineOptionsJson.CanonicalOf(p)).ToList();
            var unchanged = wanted.Where(p => fileOwned.TryGetValue(p.Name, out var o) && PipelineOptionsJson.CanonicalOf(o.Definition!) == PipelineOptionsJson.CanonicalOf(p)).Select(p => p.Name).ToList();
            var removed = fileOwned.Keys.Where(n => wanted.All(p => p.Name != n)).ToList();

            // Validate everything that will start before touching anything.
            var errors = new List<ConfigError>();
            var after = current.Where(x => x.Origin == PipelineOrigin.Api).Select(x => x.Definition).Concat(wanted).ToList();
            foreach (var p in added.Concat(changed))
            {
                if (ServerIdClash(p, after.Where(d => d != null && !ReferenceEquals(d, p))) is { } other)
                    errors.Add(new ConfigError(next.FilePath, p.Name, "source.server_id", $"{p.Options.Source.ServerId} is also used by pipeline '{other}' on the same server"));
                errors.AddRange(await SinkErrorsAsync(p, next).ConfigureAwait(false));
            }
            if (errors.Count > 0)
                throw new ControlException(ControlErrorKind.Invalid, "Invalid configuration",
                    $"{next.FilePath} was not applied; nothing changed", ControlException.ErrorsOf(errors, true, wanted.SelectMany(Secrets.ValuesOf).ToList()));

            _fileConfig = next;
            foreach (var name in removed)
            {
                await StopAsync(name).ConfigureAwait(false);
                RemoveEntry(name);
            }
            if (_store.Paused.RemoveWhere(n => removed.Contains(n)) > 0) _store.Save();
            foreach (var p in added)
            {
                var entry = new PipelineEntry(p.Name, PipelineOrigin.File, p, null, null, _store.Paused.Contains(p.Name), null);
                Replace(entry);
                await ApplyAsync(null, entry).ConfigureAwait(false);
            }
            foreach (var p in changed)
            {
                var old = fileOwned[p.Name];
                var entry = old with { Definition = p };
                Replace(entry);
                await ApplyAsync(old, entry).ConfigureAwait(false);
            }
            var restart = RestartRequired(_manager.Config.Options, next.Options);
            var result = new ReloadResult(next.FilePath, added.Select(p => p.Name).ToList(), changed.Select(p => p.Name).ToList(), removed, unchanged, overridden, restart);
            _logger.ConfigReloaded(next.FilePath, result.Added.Count, result.Changed.Count, result.Removed.Count, result.Unchanged.Count,
                restart.Count > 0 ? $"; needs a restart to apply: {string.Join(", ", restart)}" : "");
            Reloaded?.Invoke("config", true);
            return result;
        }
        catch (ControlException)
        {
            _logger.ConfigReloadRejected(_fileConfig.FilePath);
            Reloaded?.Invoke("config", false);
            throw;
        }
    });

    private static List<string> RestartRequired(Config.HostOptions running, Config.HostOptions next)
    {
        var list = new List<string>();
        void Check(string key, object? a, object? b)
        {
            if (JsonSerializer.Serialize(a, ControlJson.Canonical) != JsonSerializer.Serialize(b, ControlJson.Canonical)) list.Add(key);
        }
        Check("server", running.Server, next.Server);
        Check("log", running.Log, next.Log);
        Check("memory", running.Memory, next.Memory);
        Check("state_dir", running.StateDir, next.StateDir);
        Check("plugins_dir", running.PluginsDir, next.PluginsDir);
        Check("transforms_dir", running.TransformsDir, next.TransformsDir);
        Check("output_dir", running.OutputDir, next.OutputDir);
        return list;
    }
}
