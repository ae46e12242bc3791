using Microsoft.Extensions.Logging;
using PluginHost.Binlog.History;
using PluginHost.Binlog.Replication;

namespace PluginHost.Schema;

/// <summary>
/// A pipeline's schema history across its runs: <see cref="Open"/> rebuilds it as of the position a run resumes from
/// (entries after it are read again from the binlog, so they are dropped) and compacts the store; new entries are
/// stored before they take effect. Kept in <see cref="SchemaHistoryFile"/> when the pipeline has a state directory, in
/// memory otherwise. Logs each table that becomes uncertain once, and the advice to use FULL row metadata once.
/// </summary>
public sealed class PipelineSchemaHistory(string pipeline, SchemaHistoryFile? file, Func<string, string, bool> takes, ILogger logger)
{
    private List<SchemaHistoryEntry>? _entries; // the store's content (read from the file once)
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);
    private bool _adviceGiven;
    private SchemaHistory? _current;

    /// <summary>The file name of a pipeline's history in <paramref name="stateDirectory"/>.</summary>
    public static string PathOf(string stateDirectory, string pipeline) => Path.Combine(stateDirectory, pipeline + ".schema-history.jsonl");

    /// <summary>Tables whose columns are uncertain now (the <c>pluginhost.schema.uncertain_tables</c> metric).</summary>
    public int UncertainTables => _current?.UncertainCount ?? 0;

    /// <summary>
    /// The history as of <paramref name="resume"/> (entries at or before it): the run's client records a baseline when it
    /// is empty (no checkpoint, or no history stored for it yet).
    /// </summary>
    public SchemaHistory Open(BinlogPosition? resume)
    {
        _entries ??= file?.Read() ?? [];
        var history = new SchemaHistory(takes);
        if (resume != null)
            foreach (var e in _entries)
                if (PositionOrder.Compare(e.Position, resume) <= 0) history.Load(e);
        // Compacted: one entry per table as of the resume point; what came after is read again from the binlog.
        var compacted = history.Position is { } at ? history.Compact(at) : [];
        file?.Write(compacted);
        _entries = compacted;
        if (history.Position is { } loaded)
            logger.SchemaHistoryLoaded(pipeline, loaded, file?.Path ?? "memory", history.KnownTables.Count, history.UncertainCount);
        foreach (var name in history.UncertainTables) _warned.Add(name.ToString()); // said when it became so (or at load)
        var recordingBaseline = !history.HasBaseline;
        history.Recording += entries =>
        {
            file?.Append(entries);
            _entries.AddRange(entries);
            if (recordingBaseline)
            {
                recordingBaseline = false;
                logger.SchemaHistoryRecorded(pipeline, entries.Count > 0 ? entries[0].Position : (object)"start", entries.Count(e => e.Kind == SchemaHistoryEntryKind.Table));
            }
        };
        history.BecameUncertain += (name, reason, at) =>
        {
            if (_warned.Add(name.ToString())) logger.SchemaTableUncertain(pipeline, name.ToString(), at, reason);
        };
        history.BecameKnown += (name, how) =>
        {
            if (!_warned.Remove(name.ToString())) return;
            if (history.Find(name.Database, name.Table).State == SchemaHistoryState.Known) logger.SchemaTableKnownAgain(pipeline, name.ToString(), how);
            else _warned.Add(name.ToString()); // dropped, not described: a later map of it is not warned again
        };
        history.ServerChecked += settings =>
        {
            if (_adviceGiven || string.Equals(settings.RowMetadata, "FULL", StringComparison.OrdinalIgnoreCase)) return;
            _adviceGiven = true;
            logger.SchemaRowMetadataNotFull(pipeline, settings.Version, settings.RowMetadata ?? "(not supported: MINIMAL)");
        };
        _current = history;
        return history;
    }
}
