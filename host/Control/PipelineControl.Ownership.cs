using PluginHost.Pipelines;

namespace PluginHost.Control;

/// <summary>Cluster mode: the pipelines this node owns run here; the others are listed as running elsewhere.</summary>
internal sealed partial class PipelineControl
{
    private Func<string, bool>? _owns;

    /// <summary>Which pipelines this node may run (cluster mode); null: every pipeline (one process).</summary>
    public Func<string, bool>? Ownership
    {
        get => Volatile.Read(ref _owns);
        set => Volatile.Write(ref _owns, value);
    }

    private bool Owns(string name) => Ownership?.Invoke(name) ?? true;

    /// <summary>
    /// Starts the owned pipelines that should run and do not, stops (gracefully, checkpoint written) those no longer
    /// owned; <paramref name="why"/> is shown for the pipelines not run here.
    /// </summary>
    public Task ApplyOwnershipAsync(string why, CancellationToken ct) => Locked(ct, async () =>
    {
        foreach (var e in Entries())
        {
            if (e.Definition is null || e.Paused || !e.Enabled) continue;
            var running = _manager.Find(e.Name) != null;
            if (Owns(e.Name))
            {
                if (running) continue;
                Replace(e with { Detached = null });
                await StartAsync(e.Definition).ConfigureAwait(false);
            }
            else
            {
                var status = running ? await StopAsync(e.Name).ConfigureAwait(false) : null;
                status ??= new PipelineStatus(e.Name) { SinkType = e.Definition.SinkType };
                status.State = PipelineState.Stopped;
                status.SetError(why);
                Replace(e with { Detached = status });
            }
        }
        return true;
    });
}
