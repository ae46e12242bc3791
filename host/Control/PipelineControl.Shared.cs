using System.Text.Json.Nodes;
using PluginHost.Config;

namespace PluginHost.Control;

/// <summary>
/// Cluster mode: pipelines created, replaced and deleted over the API are kept in the cluster's shared table (every
/// node applies them) instead of <c>state_dir/api-pipelines.yaml</c>; the configuration file's pipelines stay the
/// file's (a shared definition of the same name is refused).
/// </summary>
internal sealed partial class PipelineControl
{
    private Func<string, JsonObject?, CancellationToken, Task>? _publish;

    /// <summary>Writes a definition (null: deletes it) to the cluster's shared table; null outside cluster mode.</summary>
    public Func<string, JsonObject?, CancellationToken, Task>? Publish
    {
        get => Volatile.Read(ref _publish);
        set => Volatile.Write(ref _publish, value);
    }

    /// <summary>Where shared definitions are kept (for messages).</summary>
    public string SharedLocation { get; set; } = "the cluster's pipelines topic";

    /// <summary>A refusal when <paramref name="name"/> is a configuration-file pipeline and definitions are shared.</summary>
    private void RefuseFileName(string name, string what)
    {
        if (Publish is null || _fileConfig.Pipelines.All(p => p.Name != name)) return;
        throw new ControlException(ControlErrorKind.Conflict, "Defined in the configuration file",
            $"pipelines[].name '{name}' is defined in the configuration file of the cluster's nodes: it cannot be {what} over the API " +
            $"(pipelines over the API are kept in {SharedLocation}, and one name cannot be in both); change the file on every node, or choose another name");
    }

    /// <summary>Keeps an API change: in the shared table (cluster mode) or in <c>state_dir/api-pipelines.yaml</c>.</summary>
    private async Task KeepAsync(string name, JsonObject? raw, CancellationToken ct)
    {
        if (Publish is { } publish)
        {
            try
            {
                await publish(name, raw, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                throw new ControlException(ControlErrorKind.Unavailable, "Cluster unavailable", $"not written to {SharedLocation}: {e.Message}; nothing changed");
            }
            return;
        }
        if (raw is null)
        {
            _store.Remove(name);
            if (_fileConfig.Pipelines.Any(p => p.Name == name)) _store.Deleted.Add(name);
        }
        else
        {
            _store.Put(raw);
            _store.Deleted.Remove(name);
        }
        _store.Save();
    }

    /// <summary>
    /// Applies a record of the shared table (another node's change, the table read at start, or this node's own change
    /// read back): creates, replaces or deletes the pipeline here without writing anything. Returns why it was refused
    /// (a configuration-file pipeline of that name), or null.
    /// </summary>
    public Task<string?> ApplySharedAsync(string name, JsonObject? raw, CancellationToken ct) => Locked<string?>(ct, async () =>
    {
        var old = _desired.Find(name);
        if (_fileConfig.Pipelines.Any(p => p.Name == name))
            return raw is null ? null
                : $"{SharedLocation}: key '{name}': a pipeline of that name is defined in the configuration file (pipelines[].name); the file's definition runs, " +
                  $"the topic's is ignored (rename one of them, or delete the topic's with a tombstone for key '{name}')";
        if (raw is null)
        {
            if (old is null) return null;
            await StopAsync(name).ConfigureAwait(false);
            RemoveEntry(name);
            _logger.Deleted(name, $" (read from {SharedLocation})");
            return null;
        }
        if (old?.Raw is { } same && JsonNode.DeepEquals(same, raw)) return null;
        PipelineEntry entry;
        try
        {
            var def = ConfigLoader.ParsePipeline(raw.ToJsonString(), SharedLocation, _fileConfig, _sinks.Types) with { FromApi = true };
            if (ApiPaths.Check(def, _fileConfig, SharedLocation) is { Count: > 0 } refused) throw new ConfigException(refused);
            entry = new PipelineEntry(name, PipelineOrigin.Api, def, raw, null, _store.Paused.Contains(name), old?.Paused == true ? old.Detached : null);
        }
        catch (ConfigException e)
        {
            var why = string.Join("; ", e.Errors.Select(x => $"{x.Key}: {x.Message}"));
            await StopAsync(name).ConfigureAwait(false);
            entry = new PipelineEntry(name, PipelineOrigin.Api, null, raw, why, false, FailedStatus(name, why));
            Replace(entry);
            return $"{SharedLocation}: key '{name}' is not a valid pipeline and does not run: {why}";
        }
        Replace(entry);
        await ApplyAsync(old, entry).ConfigureAwait(false);
        _logger.Defined(name, (old is null ? "created" : "replaced") + $" (read from {SharedLocation})");
        return null;
    });
}
