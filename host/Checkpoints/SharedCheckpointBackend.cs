using PluginHost.Sdk;

namespace PluginHost.Checkpoints;

/// <summary>
/// A pipeline's plugin checkpoint store as a sink that commits checkpoints itself (<see cref="ITransactionalSink"/>,
/// exactly once) needs it: the plugin's backend, and the write guard of cluster mode (null: none).
/// </summary>
internal sealed record SharedCheckpointBackend(ICheckpointBackend Backend, GuardedCheckpointStore? Guard)
{
    /// <summary>The plugin backend under <paramref name="store"/>'s wrappers; null for the file store.</summary>
    public static SharedCheckpointBackend? Of(ICheckpointStore store)
    {
        GuardedCheckpointStore? guard = null;
        while (true)
        {
            switch (store)
            {
                case HistoryRecordingStore h:
                    store = h.Inner;
                    continue;
                case GuardedCheckpointStore g:
                    guard = g;
                    store = g.Inner;
                    continue;
                case BackendCheckpointStore b:
                    return new SharedCheckpointBackend(b.Backend, guard);
                default:
                    return null;
            }
        }
    }

    /// <summary>Offers the store to <paramref name="sink"/>; true when the sink writes the checkpoints of <paramref name="pipeline"/> from now on.</summary>
    public bool Join(ITransactionalSink sink, string pipeline) => sink.JoinCheckpoints(Backend, () => Guard?.Refusal(pipeline));
}
