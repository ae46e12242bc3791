using Microsoft.Extensions.Logging;
using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>
/// The host's rules for a plugin version, checked before anything is registered: no sink type clashes with another
/// origin or disappears from under a running pipeline, and a new sink can be created from the settings of every running
/// pipeline that uses its sink types. Then registers (or unregisters) its factories in the <see cref="SinkCatalog"/>.
/// </summary>
internal sealed class PluginValidator(SinkCatalog catalog, PipelineSinks pipelines, ILogger logger)
{
    /// <summary>
    /// Null when <paramref name="next"/> may replace <paramref name="previous"/>, with a new sink for each running
    /// pipeline that uses its sink types (the caller hands them over); else why not (the sinks already disposed).
    /// </summary>
    public async Task<(string? Error, List<(ISinkVersionConsumer Pipeline, ISink Sink)> Swaps)> ValidateAsync(LoadedPlugin next, LoadedPlugin? previous)
    {
        var running = pipelines.Running();
        var swaps = new List<(ISinkVersionConsumer, ISink)>();
        var error = CheckSinkTypes(next, previous, running);
        if (error is null)
        {
            foreach (var pipeline in running)
            {
                if (next.FactoryFor(pipeline.SinkType) is not { } factory) continue;
                try
                {
                    swaps.Add((pipeline, pipeline.CreateSink(factory)));
                }
                catch (Exception e)
                {
                    error = $"its {pipeline.SinkType} sink cannot be created for pipeline {pipeline.Pipeline}: {e.Message}";
                    break;
                }
            }
        }
        if (error is null) return (null, swaps);
        foreach (var (_, sink) in swaps) await DisposeQuietlyAsync(sink).ConfigureAwait(false);
        return (error, []);
    }

    /// <summary>The running pipelines that use a sink type of <paramref name="plugin"/>.</summary>
    public List<string> UsersOf(LoadedPlugin plugin) =>
        pipelines.Running().Where(p => plugin.SinkTypes.Contains(p.SinkType, StringComparer.Ordinal)).Select(p => p.Pipeline).ToList();

    /// <summary>Registers <paramref name="next"/>'s factories, dropping the sink types <paramref name="previous"/> had and it has not.</summary>
    public void Register(LoadedPlugin next, LoadedPlugin? previous)
    {
        if (previous != null)
            foreach (var type in previous.SinkTypes.Except(next.SinkTypes))
                if (catalog.Find(type) is { } f && previous.Factories.Contains(f)) catalog.Remove(type);
        foreach (var factory in next.Factories) catalog.Register(factory, next.Origin);
    }

    /// <summary>Removes <paramref name="plugin"/>'s factories from the catalog (those still its own).</summary>
    public void Unregister(LoadedPlugin plugin)
    {
        foreach (var factory in plugin.Factories)
            if (ReferenceEquals(catalog.Find(factory.Type), factory)) catalog.Remove(factory.Type);
    }

    /// <summary>Sink-type rules: no clash with another origin, and no sink type in use disappears.</summary>
    private string? CheckSinkTypes(LoadedPlugin next, LoadedPlugin? previous, IReadOnlyList<ISinkVersionConsumer> running)
    {
        foreach (var type in next.SinkTypes)
        {
            if (previous != null && previous.SinkTypes.Contains(type, StringComparer.Ordinal)) continue;
            if (catalog.OriginOf(type) is { } origin)
                return $"sink type '{type}' is already provided by {origin}";
        }
        if (previous is null) return null;
        var dropped = previous.SinkTypes.Except(next.SinkTypes, StringComparer.Ordinal).ToHashSet(StringComparer.Ordinal);
        var users = running.Where(p => dropped.Contains(p.SinkType)).Select(p => $"{p.Pipeline} ({p.SinkType})").ToList();
        return users.Count == 0 ? null : $"the new version no longer has sink type(s) used by running pipeline(s) {string.Join(", ", users)}";
    }

    private async Task DisposeQuietlyAsync(ISink sink)
    {
        try { await sink.DisposeAsync().ConfigureAwait(false); }
        catch (Exception e) { logger.RejectedSinkDisposeFailed(e.Message); }
    }
}
