using PluginHost.Binlog.Ddl;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;

namespace PluginHost.Binlog.History;

/// <summary>How <see cref="SchemaHistory.Find"/> knows a table.</summary>
public enum SchemaHistoryState
{
    /// <summary>Not a table the history follows: describe it some other way.</summary>
    Untracked,

    /// <summary>Its columns are known.</summary>
    Known,

    /// <summary>Followed, but its columns are not known for certain: positional names only.</summary>
    Uncertain,

    /// <summary>Followed (the pipeline takes it) but not in the history: as uncertain until it is described.</summary>
    Missing,
}

/// <summary>
/// The columns of the tables a pipeline takes as of the binlog position being read (the Debezium/Maxwell schema
/// history): recorded from information_schema at the start (<see cref="RecordBaseline"/>), then changed only by the DDL
/// statements read from the binlog (<see cref="Apply"/>). Every change is an <see cref="SchemaHistoryEntry"/> handed to
/// <see cref="Recording"/> before it takes effect, so whoever stores the entries can rebuild the history as of any
/// checkpoint with <see cref="Load"/>. A statement it cannot read makes the tables it names uncertain (never guessed);
/// a CREATE TABLE or a <see cref="Refresh"/> makes them known again. Used by one reader thread;
/// <see cref="UncertainCount"/> may be read from any.
/// </summary>
public sealed partial class SchemaHistory(Func<string, string, bool> takes)
{
    private readonly Dictionary<TableName, TableState> _tables = [];
    private readonly Dictionary<string, int> _databases = new(StringComparer.Ordinal);
    private volatile int _uncertain;

    private readonly record struct TableState(TableSchema? Schema, string? Reason);

    /// <summary>True for a table the pipeline takes (whose columns the baseline records).</summary>
    public Func<string, string, bool> Takes => takes;

    /// <summary>Where the history holds: the position of the last entry loaded or recorded (null: nothing yet).</summary>
    public BinlogPosition? Position { get; private set; }

    /// <summary>True once a baseline was recorded or entries were loaded.</summary>
    public bool HasBaseline => Position != null;

    /// <summary>Tables whose columns are uncertain now.</summary>
    public int UncertainCount => _uncertain;

    /// <summary>The uncertain tables.</summary>
    public IReadOnlyList<TableName> UncertainTables => _tables.Where(t => t.Value.Reason != null).Select(t => t.Key).ToList();

    /// <summary>Every table with known columns.</summary>
    public IReadOnlyList<TableSchema> KnownTables => _tables.Values.Where(t => t.Schema != null).Select(t => t.Schema!).ToList();

    /// <summary>Database default collations known.</summary>
    public IReadOnlyDictionary<string, int> DatabaseDefaults => _databases;

    /// <summary>New entries, before they take effect: store them here (an exception stops them taking effect).</summary>
    public event Action<IReadOnlyList<SchemaHistoryEntry>>? Recording;

    /// <summary>A table became uncertain (once per change, not per event), with the reason.</summary>
    public event Action<TableName, string, BinlogPosition>? BecameUncertain;

    /// <summary>An uncertain table is known again, with how.</summary>
    public event Action<TableName, string>? BecameKnown;

    /// <summary>The replication client checked the server (its <c>binlog_row_metadata</c> decides whether maps carry names).</summary>
    public event Action<ServerSettings>? ServerChecked;

    internal void OnServerChecked(ServerSettings settings) => ServerChecked?.Invoke(settings);

    /// <summary>How the history knows <paramref name="database"/>.<paramref name="table"/>, and its columns when known.</summary>
    public (SchemaHistoryState State, TableSchema? Schema) Find(string database, string table)
    {
        var name = new TableName(database, table);
        if (_tables.TryGetValue(name, out var s)) return s.Schema is { } known ? (SchemaHistoryState.Known, known) : (SchemaHistoryState.Uncertain, null);
        return takes(database, table) ? (SchemaHistoryState.Missing, null) : (SchemaHistoryState.Untracked, null);
    }

    /// <summary>True when the history keeps the columns of <paramref name="name"/>: the pipeline takes it, or it is known.</summary>
    private bool Follows(TableName name) => _tables.ContainsKey(name) || takes(name.Database, name.Table);

    /// <summary>Restores one stored entry (no events are raised).</summary>
    public void Load(SchemaHistoryEntry entry)
    {
        Take(entry);
        if (Position is null || PositionOrder.Compare(entry.Position, Position) > 0) Position = entry.Position;
    }

    /// <summary>The history as entries at <paramref name="at"/>: one per table and database (what a compacted store keeps).</summary>
    public List<SchemaHistoryEntry> Compact(BinlogPosition at)
    {
        var entries = _databases.Select(d => new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Database, d.Key, "", Collation: d.Value)).ToList();
        foreach (var (name, state) in _tables)
            entries.Add(state.Schema is { } schema
                ? new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Table, name.Database, name.Table, schema)
                : new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Uncertain, name.Database, name.Table, Reason: state.Reason));
        return entries;
    }

    /// <summary>Records the columns of the tables the pipeline takes (read from information_schema) as of <paramref name="at"/>.</summary>
    public void RecordBaseline(IEnumerable<TableSchema> tables, IReadOnlyDictionary<string, int> databaseDefaults, BinlogPosition at)
    {
        var entries = databaseDefaults.Select(d => new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Database, d.Key, "", Collation: d.Value)).ToList();
        foreach (var t in tables)
            if (takes(t.Database, t.Table))
                entries.Add(new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Table, t.Database, t.Table, t));
        Commit(entries, at, "recorded from information_schema");
        Position ??= at; // (nothing to record: the baseline is still taken)
    }

    /// <summary>The table's columns are not what the history says (seen at <paramref name="at"/>): uncertain from here on.</summary>
    public void MarkUncertain(string database, string table, string reason, BinlogPosition at) =>
        Commit([new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Uncertain, database, table, Reason: reason)], at, null);

    /// <summary>
    /// Describes uncertain tables anew, at a point where the reader is caught up with the server (so information_schema
    /// describes them as of <paramref name="at"/>): a null schema means the table no longer exists.
    /// </summary>
    public void Refresh(IEnumerable<(TableName Name, TableSchema? Schema)> tables, BinlogPosition at)
    {
        var entries = tables.Select(t => t.Schema is { } s
            ? new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Table, t.Name.Database, t.Name.Table, s)
            : new SchemaHistoryEntry(at, SchemaHistoryEntryKind.Dropped, t.Name.Database, t.Name.Table)).ToList();
        Commit(entries, at, "described again from information_schema at the binlog's end");
    }

    /// <summary>Applies a statement read from the binlog, ending at <paramref name="at"/>; one at or before <see cref="Position"/>
    /// (read again after a reconnect) is ignored. True when the history changed.</summary>
    public bool Apply(QueryEvent query, BinlogPosition at)
    {
        return QueryEvent.FirstKeywordIsSchemaChange(query.Sql) && ApplyStatement(query.Sql, query.Database, at);
    }

    /// <summary>Applies one statement run with <paramref name="database"/> as the default database.</summary>
    internal bool ApplyStatement(string sql, string database, BinlogPosition at)
    {
        if (Position is { } applied && PositionOrder.Compare(at, applied) <= 0) return false;
        var entries = EntriesOf(DdlParser.Parse(sql, database), at, sql);
        Commit(entries, at, "a statement read from the binlog defines it");
        return entries.Count > 0;
    }

    private void Commit(List<SchemaHistoryEntry> entries, BinlogPosition at, string? how)
    {
        if (entries.Count == 0) return;
        Recording?.Invoke(entries);
        foreach (var e in entries)
        {
            var name = new TableName(e.Database, e.Table);
            var was = _tables.TryGetValue(name, out var before) ? before.Reason : null;
            Take(e);
            if (e.Kind == SchemaHistoryEntryKind.Uncertain && was is null) BecameUncertain?.Invoke(name, e.Reason ?? "unknown", at);
            else if (e.Kind is SchemaHistoryEntryKind.Table or SchemaHistoryEntryKind.Dropped && was != null) BecameKnown?.Invoke(name, how ?? "known again");
        }
        if (Position is null || PositionOrder.Compare(at, Position) > 0) Position = at;
    }

    private void Take(SchemaHistoryEntry e)
    {
        var name = new TableName(e.Database, e.Table);
        if (e.Kind == SchemaHistoryEntryKind.Database)
        {
            _databases[e.Database] = e.Collation;
            return;
        }
        var wasUncertain = _tables.TryGetValue(name, out var before) && before.Reason != null;
        switch (e.Kind)
        {
            case SchemaHistoryEntryKind.Table when e.Schema is { } schema:
                _tables[name] = new TableState(schema with { Database = e.Database, Table = e.Table }, null);
                break;
            case SchemaHistoryEntryKind.Uncertain:
                _tables[name] = new TableState(null, e.Reason ?? "unknown");
                break;
            default:
                _tables.Remove(name);
                break;
        }
        var isUncertain = e.Kind == SchemaHistoryEntryKind.Uncertain;
        if (isUncertain != wasUncertain) _uncertain += isUncertain ? 1 : -1;
    }
}
