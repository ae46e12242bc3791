using System.Text.Json.Nodes;
using PluginHost.Config;
using PluginHost.Pipelines;

namespace PluginHost.Control;

/// <summary>The desired set at start: the configuration file's pipelines overlaid with <c>state_dir/api-pipelines.yaml</c>.</summary>
internal sealed partial class PipelineControl
{
    /// <summary>The desired set computed before the host is built (the pipeline manager starts <see cref="Effective"/>).</summary>
    internal sealed record Prepared(HostConfig FileConfig, HostConfig Effective, ApiPipelineStore Store, List<PipelineEntry> Entries, List<string> Notes);

    /// <summary>Merges <paramref name="file"/> with <c>state_dir/api-pipelines.yaml</c>.</summary>
    internal static Prepared Prepare(HostConfig file)
    {
        var notes = new List<string>();
        ApiPipelineStore store;
        try
        {
            store = ApiPipelineStore.Load(file.StateDirectory, notes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([new ConfigError(file.FilePath, null, "state_dir", $"cannot read {Path.Combine(file.StateDirectory, ApiPipelineStore.FileName)}: {e.Message}")]);
        }
        var entries = Merge(file, store, notes);
        var effective = new HostConfig(file.Options, file.FilePath,
            entries.Where(e => e.Definition != null && !e.Paused).Select(e => e.Definition!).ToList()) { Warnings = file.Warnings };
        return new Prepared(file, effective, store, entries, notes);
    }

    private static List<PipelineEntry> Merge(HostConfig file, ApiPipelineStore store, List<string> notes)
    {
        var entries = new List<PipelineEntry>();
        var fromApi = new HashSet<string>(StringComparer.Ordinal);
        if (file.Options.Cluster != null && (store.Pipelines.Count > 0 || store.Deleted.Count > 0))
        {
            // Cluster mode: the API's pipelines are the cluster's (its pipelines topic), not this node's file.
            notes.Add($"{store.Path}: its {store.Pipelines.Count} pipeline(s) and {store.Deleted.Count} deletion(s) are ignored in cluster mode " +
                      "(pipelines created over the API are kept in the cluster's pipelines topic; the file keeps only paused names from its next write on): create them again over the API");
            store.Clear();
        }
        foreach (var p in file.Pipelines)
        {
            if (store.Deleted.Contains(p.Name)) continue;
            if (store.Find(p.Name) is { } raw)
            {
                entries.Add(FromApi(raw, file, store, notes));
                fromApi.Add(p.Name);
            }
            else entries.Add(new PipelineEntry(p.Name, PipelineOrigin.File, p, null, null, store.Paused.Contains(p.Name), null));
        }
        foreach (var raw in store.Pipelines)
            if (!fromApi.Contains(ApiPipelineStore.NameOf(raw)!))
                entries.Add(FromApi(raw, file, store, notes));
        // Two pipelines reading the same server as the same replica would keep kicking each other off.
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i] is not { Definition: { } d, Origin: PipelineOrigin.Api } e) continue;
            if (ServerIdClash(d, entries.Take(i).Concat(entries.Skip(i + 1)).Select(x => x.Definition)) is { } other)
            {
                var why = $"source.server_id: {d.Options.Source.ServerId} is also used by pipeline '{other}' on the same server; each needs its own";
                notes.Add($"{store.Path}: pipeline '{e.Name}': {why}");
                entries[i] = e with { Definition = null, Invalid = why };
            }
        }
        return entries.Select(e => e.Invalid != null ? e with { Detached = FailedStatus(e.Name, e.Invalid) } : e).ToList();
    }

    private static PipelineEntry FromApi(JsonObject raw, HostConfig file, ApiPipelineStore store, List<string> notes)
    {
        var name = ApiPipelineStore.NameOf(raw)!;
        try
        {
            var def = ConfigLoader.ParsePipeline(raw.ToJsonString(), store.Path, file) with { FromApi = true };
            if (ApiPaths.Check(def, file, store.Path) is { Count: > 0 } refused) throw new ConfigException(refused);
            return new PipelineEntry(name, PipelineOrigin.Api, def, raw, null, store.Paused.Contains(name), null);
        }
        catch (ConfigException e)
        {
            var why = string.Join("; ", e.Errors.Select(x => $"{x.Key}: {x.Message}"));
            notes.Add($"{store.Path}: pipeline '{name}' is not valid any more and does not run: {why}");
            return new PipelineEntry(name, PipelineOrigin.Api, null, raw, why, store.Paused.Contains(name), null);
        }
    }

    private static PipelineStatus FailedStatus(string name, string why)
    {
        var s = new PipelineStatus(name) { State = PipelineState.Failed };
        s.SetError(why);
        return s;
    }
}
