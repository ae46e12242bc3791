using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Sdk;

namespace PluginHost.Control;

/// <summary>On-demand snapshots (<c>POST</c> and <c>DELETE /pipelines/{name}/snapshot</c>).</summary>
internal sealed partial class PipelineControl
{
    /// <summary>
    /// Reads <paramref name="tables"/> (<c>database.table</c>, <c>*</c> allowed) into the running pipeline without
    /// pausing its stream. Each table must exist and be one the pipeline's filter takes, and <paramref name="where"/> must
    /// be a condition the server accepts on each; a pipeline that is not reading the binlog, or whose filter leaves out
    /// read, refuses (409). Nothing changes on a refusal.
    /// </summary>
    public Task<PipelineSnapshot> SnapshotAsync(string name, IReadOnlyList<string> tables, string? where, CancellationToken ct) => Locked(ct, async () =>
    {
        var e = Usable(name);
        var shown = SnapshotOf(e);
        if (shown.Runner is not { } runner || !shown.State.IsReading())
            throw ControlException.Conflict($"pipeline '{name}' is {shown.State.ToText()}: a snapshot is read into a running pipeline (resume it first)");
        if (runner.SnapshotSource is not { } open)
            throw ControlException.Conflict($"pipeline '{name}' cannot read snapshots (no source for them)");
        var filter = e.Definition!.Filter;
        if (!filter.IncludesOperation(ChangeOperation.Read))
            throw ControlException.Conflict($"pipeline '{name}' leaves read out of filter.events: a snapshot's rows would all be dropped (add read to it)");
        var chosen = new List<(string Database, string Table)>();
        try
        {
            await using var source = await open(ct).ConfigureAwait(false);
            for (var i = 0; i < tables.Count; i++)
            {
                var pattern = tables[i];
                var field = $"tables[{i}]";
                if (!EventFilter.IsValidPattern(pattern))
                    throw Invalid(field, $"'{pattern}' is not database.table (a * matches any run of characters)");
                var matcher = new EventFilter([pattern], [], []);
                // Only tables the pipeline takes: another table's rows would arrive without its later changes.
                IReadOnlyList<(string Database, string Table)> found = pattern.Contains('*') || pattern.Contains('?')
                    ? await source.ListTablesAsync((db, t) => matcher.IncludesTable(db, t) && filter.IncludesTable(db, t), ct).ConfigureAwait(false)
                    : [(pattern[..pattern.IndexOf('.')], pattern[(pattern.IndexOf('.') + 1)..])];
                if (found.Count == 0) throw Invalid(field, $"no table the pipeline takes (filter.include, filter.exclude) matches '{pattern}'");
                if (!filter.IncludesTable(found[0].Database, found[0].Table))
                    throw Invalid(field,
                        $"'{pattern}' is not a table the pipeline takes (filter.include, filter.exclude): its rows would arrive without its later changes");
                foreach (var t in found)
                {
                    SnapshotTableHandle handle;
                    try
                    {
                        handle = await source.DescribeAsync(t.Database, t.Table, ct).ConfigureAwait(false);
                    }
                    catch (SnapshotInputException x)
                    {
                        throw Invalid(field, x.Message);
                    }
                    if (where != null)
                        try
                        {
                            await source.ValidateWhereAsync(handle, where, ct).ConfigureAwait(false);
                        }
                        catch (SnapshotInputException x)
                        {
                            throw Invalid("where", x.Message);
                        }
                    if (!chosen.Contains(t)) chosen.Add(t);
                }
            }
        }
        catch (Exception x) when (x is not (ControlException or OperationCanceledException))
        {
            throw new ControlException(ControlErrorKind.Unavailable, "Source unavailable", $"cannot check the snapshot's tables on the source: {x.Message}");
        }
        runner.RequestSnapshot(chosen, where);
        return SnapshotOf(Get(name));
    });

    /// <summary>
    /// Cancels the pipeline's snapshot (its stream goes on); 409 when none is in progress. Answers once the saved
    /// checkpoint no longer carries the snapshot (a few seconds at most): a restart or stop right after the cancel,
    /// which waits for this call, must not find the snapshot in the checkpoint and read it again.
    /// </summary>
    public Task<PipelineSnapshot> CancelSnapshotAsync(string name, CancellationToken ct) => Locked(ct, async () =>
    {
        var e = Usable(name);
        var shown = SnapshotOf(e);
        if (shown.Runner is not { } runner || !runner.CancelSnapshot())
            throw ControlException.Conflict($"pipeline '{name}' has no snapshot in progress");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (runner.Status.Checkpoint?.Snapshot is { Completed: false } && waited.Elapsed < TimeSpan.FromSeconds(5) && runner.Status.State is PipelineState.Running or PipelineState.Degraded or PipelineState.Retrying)
            await Task.Delay(20, ct).ConfigureAwait(false);
        return SnapshotOf(Get(name));
    });

    private static ControlException Invalid(string field, string message) =>
        new(ControlErrorKind.Invalid, "Invalid snapshot request", message, new Dictionary<string, string[]> { [field] = [message] });
}
