namespace PluginHost.Sdk;

/// <summary>
/// Where a pipeline's events go. The host calls <see cref="WriteAsync"/> with batches in commit order, one call at a
/// time, and <see cref="FlushAsync"/> before it advances the checkpoint. A sink must not lose what it was given:
/// when FlushAsync returns, every event written so far is delivered (acknowledged, durable). Throwing from either
/// method makes the host retry from the last checkpoint; it never skips events.
/// </summary>
public interface ISink : IAsyncDisposable
{
    /// <summary>Accepts a batch of events, in order. May buffer; must keep per-row order.</summary>
    ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken);

    /// <summary>Returns when every event accepted so far is delivered.</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);
}
