using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;

namespace PluginHost.Pipelines;

/// <summary>
/// Reads a snapshot's tables chunk after chunk (one connection, read-only, no locks) and hands each chunk to the
/// reader (<see cref="SnapshotHandoff"/>), one at a time: the next chunk is read while the last one is queued. Idle
/// while there is no snapshot to read; an on-demand request wakes it. One per run of a pipeline.
/// </summary>
internal sealed class SnapshotCoordinator(string pipeline, SnapshotSettings settings, SnapshotHandoff handoff, PipelineStatus status,
    Func<CancellationToken, Task<ISnapshotSource>> open, Func<string, string, bool> takes, ILogger logger)
{
    /// <summary>Completes when a snapshot of an <c>initial_only</c> pipeline has read its last table.</summary>
    public Task Completed => _completed.Task;

    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var signal = handoff.Signal;
            var progress = handoff.Progress;
            if (progress is not { Completed: false } || progress.Current is null && progress.Tables.Count > 0)
            {
                if (progress is { Completed: true }) _completed.TrySetResult();
                await signal.WaitAsync(ct).ConfigureAwait(false);
                continue;
            }
            using var run = CancellationTokenSource.CreateLinkedTokenSource(ct, handoff.Epoch);
            try
            {
                await ReadAsync(progress!, run.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                logger.SnapshotCancelled(pipeline);
            }
            catch (SnapshotInputException e) when (!ct.IsCancellationRequested)
            {
                handoff.Cancel($"{e.Field}: {e.Message}");
                logger.SnapshotFailed(pipeline, e.Message);
            }
        }
    }

    private async Task ReadAsync(SnapshotProgress progress, CancellationToken ct)
    {
        await using var source = await open(ct).ConfigureAwait(false);
        if (progress.Tables.Count == 0)
        {
            // An initial snapshot learns its tables when it begins: those the pipeline takes (or snapshot.tables names).
            var tables = await source.ListTablesAsync(takes, ct).ConfigureAwait(false);
            logger.SnapshotPlanned(pipeline, progress.Kind, tables.Count, string.Join(", ", tables.Select(t => t.Database + "." + t.Table)));
            if (tables.Count == 0)
            {
                handoff.Finish(keepRecord: settings.Mode == SnapshotMode.InitialOnly);
                if (settings.Mode == SnapshotMode.InitialOnly) _completed.TrySetResult();
                return;
            }
            handoff.SetProgress(progress with { Tables = tables.Select(t => new SnapshotTableProgress(t.Database, t.Table)).ToArray() });
        }
        while (handoff.Progress?.Current is { } t)
        {
            SnapshotTableHandle table;
            try
            {
                table = await source.DescribeAsync(t.Database, t.Table, ct).ConfigureAwait(false);
            }
            catch (SnapshotInputException e)
            {
                // Dropped since the snapshot was planned: nothing to read.
                logger.SnapshotTableGone(pipeline, t.ToString(), e.Message);
                var gone = new SnapshotTableHandle(t.Database, t.Table, [], 0, new object());
                await handoff.HandOver(new SnapshotDelivery { Table = gone, Chunk = new SnapshotChunk([], null, true, null!, false) }).WaitAsync(ct).ConfigureAwait(false);
                continue;
            }
            StatusOf(t)?.Started(table.EstimatedRows);
            logger.SnapshotTableStarted(pipeline, t.ToString(), table.EstimatedRows, table.HasKey ? string.Join(", ", table.KeyColumns) : "(none: one pass)", t.Rows);
            if (table.HasKey) await ReadChunksAsync(source, table, t, ct).ConfigureAwait(false);
            else
            {
                if (StatusOf(t) is { } s) s.Keyless = true;
                await handoff.HandOver(new SnapshotDelivery
                {
                    Table = table,
                    Pass = (row, c) => source.ReadAllAsync(table, t.Where, row, c),
                }).WaitAsync(ct).ConfigureAwait(false);
            }
            logger.SnapshotTableDone(pipeline, t.ToString(), StatusOf(t)?.Rows ?? 0);
        }
        logger.SnapshotDone(pipeline);
        if (handoff.Progress is { Completed: true }) _completed.TrySetResult();
    }

    /// <summary>
    /// Reads a keyed table chunk after chunk. The next chunk is read while the reader puts the last one into the stream
    /// (its SELECT overlaps the sink's work on the last one's rows); it is handed over once the last one is queued, so
    /// chunks go in one at a time and in key order. At most two chunks are held (each within
    /// <see cref="SnapshotRowSize.ChunkBytes"/>).
    /// </summary>
    private async Task ReadChunksAsync(ISnapshotSource source, SnapshotTableHandle table, SnapshotTableProgress t, CancellationToken ct)
    {
        var window = handoff.OpenWindow(table);
        Task? previous = null; // the chunk handed over last, until the reader has queued it
        try
        {
            var lastKey = t.LastKey;
            var limit = Math.Min(settings.ChunkSize, SnapshotRowSize.FirstChunkRows); // wide rows: small chunks (bounded memory)
            while (true)
            {
                // The window is open from before this read: every change after the chunk's position is seen, whichever
                // chunk the reader is placing meanwhile (it prunes only what is at or before its own chunk's position).
                var openedAt = SnapshotDelivery.GraceTimestamp();
                var chunk = await source.ReadChunkAsync(table, lastKey, t.Where, limit, ct).ConfigureAwait(false);
                var (next, perRow) = SnapshotRowSize.Measure(chunk, limit, settings.ChunkSize);
                if (previous != null) await previous.WaitAsync(ct).ConfigureAwait(false);
                previous = handoff.HandOver(new SnapshotDelivery
                {
                    Table = table, Chunk = chunk, Window = window, OpenedAt = openedAt, DueAt = chunk.Position, BytesPerRow = perRow,
                });
                if (chunk.Exhausted) break;
                lastKey = chunk.LastKey;
                limit = next;
            }
            await previous.WaitAsync(ct).ConfigureAwait(false);
            previous = null;
        }
        finally
        {
            // A failed read: the chunk handed over before it still goes in (or is dropped) before the window closes.
            if (previous != null)
                try { await previous.WaitAsync(ct).ConfigureAwait(false); }
                catch (Exception) { } // (the failure being thrown is the one that counts)
            handoff.CloseWindow();
        }
    }

    private SnapshotTableStatus? StatusOf(SnapshotTableProgress t) => status.Snapshot?.Find(t.Database, t.Table);
}
