using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Config;

namespace PluginHost.Control;

/// <summary>Creating and replacing pipelines (<c>POST /pipelines</c>, <c>PUT /pipelines/{name}</c>).</summary>
internal sealed partial class PipelineControl
{
    /// <summary><c>POST /pipelines</c>: a new pipeline from its definition as sent (a conflict when the name is taken).</summary>
    public Task<PipelineSnapshot> CreateAsync(JsonObject pipeline, CancellationToken ct) => Locked(ct, async () =>
    {
        var (def, raw) = ParseDefinition(pipeline, null);
        if (Entries().Any(e => e.Name == def.Name))
        {
            RefuseFileName(def.Name, "created");
            throw ControlException.Conflict($"a pipeline named '{def.Name}' exists: PUT /pipelines/{def.Name} replaces it");
        }
        await ValidateAsync(def).ConfigureAwait(false);
        if (_store.Paused.Remove(def.Name)) _store.Save();
        await KeepAsync(def.Name, raw, ct).ConfigureAwait(false);
        var entry = new PipelineEntry(def.Name, PipelineOrigin.Api, def, raw, null, false, null);
        Replace(entry);
        await ApplyAsync(null, entry).ConfigureAwait(false);
        _logger.Created(def.Name);
        return SnapshotOf(Get(def.Name));
    });

    /// <summary><c>PUT /pipelines/{name}</c>: creates or replaces (returns whether it was created).</summary>
    public Task<(PipelineSnapshot Pipeline, bool Created)> PutAsync(string name, JsonObject pipeline, CancellationToken ct) => Locked(ct, async () =>
    {
        var (def, raw) = ParseDefinition(pipeline, name);
        RefuseFileName(name, "replaced");
        var old = Entries().FirstOrDefault(e => e.Name == name);
        await ValidateAsync(def).ConfigureAwait(false);
        await KeepAsync(name, raw, ct).ConfigureAwait(false);
        var entry = new PipelineEntry(name, PipelineOrigin.Api, def, raw, null, old?.Paused ?? false, old?.Paused == true ? old.Detached : null);
        Replace(entry);
        await ApplyAsync(old, entry).ConfigureAwait(false);
        _logger.Defined(name, old is null ? "created" : "replaced");
        return (SnapshotOf(Get(name)), old is null);
    });
}
