using PluginHost.Binlog.Events;
using PluginHost.Binlog.History;

namespace PluginHost.Binlog.Replication;

/// <summary>The client's side of the schema history: baseline, DDL, table maps, and describing uncertain tables again.</summary>
public sealed partial class BinlogClient
{
    private (string File, long Position) _readEnd; // where the last event read ends (the server's position when caught up)

    private InformationSchemaProvider Schema => _schema ??= new InformationSchemaProvider(_options.Connection with { Database = null });

    /// <summary>At the first connect of a history without a baseline: the tables it follows, as information_schema has them now.</summary>
    private async Task RecordBaselineAsync(BinlogPosition start, ServerSettings settings, CancellationToken ct)
    {
        _readEnd = (start.File, start.Position);
        if (_options.SchemaHistory is not { HasBaseline: false } history) return;
        var (tables, databases) = await Schema.DescribeTablesAsync(history.Takes, null, settings.Flavor == ServerFlavor.MariaDb, ct).ConfigureAwait(false);
        history.RecordBaseline(tables, databases, start);
    }

    /// <summary>
    /// Names a map's columns from the history when it follows the table; false when it does not (then information_schema
    /// as it is now describes it). A map that does not fit the history makes the table uncertain: positional names.
    /// </summary>
    private bool DescribeFromHistory(TableMapEvent map)
    {
        if (_options.SchemaHistory is not { } history) return false;
        var (state, schema) = history.Find(map.Database, map.Table);
        var at = new BinlogPosition(_tracker?.File ?? "", map.Header.NextPosition, _tracker?.Committed.Gtid);
        switch (state)
        {
            case SchemaHistoryState.Untracked:
                return false;
            case SchemaHistoryState.Missing:
                history.MarkUncertain(map.Database, map.Table, "not in the schema history (not visible in information_schema when it was recorded)", at);
                return true;
            case SchemaHistoryState.Known when SchemaMatch.Mismatch(map, schema!) is { } why:
                history.MarkUncertain(map.Database, map.Table, why, at);
                return true;
            case SchemaHistoryState.Known:
                if (map.NeedsSchema) map.ApplySchema(schema!);
                if (schema!.Columns.Any(c => c.IsJson))
                    map.ApplyJsonColumns(schema.Columns.Where(c => c.IsJson).Select(c => c.Name).ToHashSet(StringComparer.OrdinalIgnoreCase));
                return true;
            default:
                return true; // uncertain: positional names, said once when it became so
        }
    }

    /// <summary>After an event: DDL changes the history; a heartbeat (caught up) describes uncertain tables again.</summary>
    private async Task FollowSchemaAsync(BinlogEvent ev, CancellationToken ct)
    {
        if (ev is not (HeartbeatEvent or RotateEvent) && ev.Header.NextPosition != 0) _readEnd = (_tracker!.File, ev.Header.NextPosition);
        if (_options.SchemaHistory is not { } history) return;
        if (ev is QueryEvent { IsSchemaChange: true } query)
            history.Apply(query, new BinlogPosition(_tracker!.File, ev.Header.NextPosition, _tracker.Committed.Gtid));
        else if (ev is HeartbeatEvent && history.UncertainCount > 0 && !_tracker!.InTransaction)
            await RefreshAsync(history, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Describes the uncertain tables from information_schema when the reader is at the server's binlog end, before and
    /// after the read (so no DDL slipped in between that the stream has not yet brought).
    /// </summary>
    private async Task RefreshAsync(SchemaHistory history, CancellationToken ct)
    {
        if (_readEnd.File.Length == 0) return;
        var before = await Schema.CurrentPositionAsync(ct).ConfigureAwait(false);
        if (before != _readEnd) return;
        var uncertain = history.UncertainTables;
        var (tables, _) = await Schema.DescribeTablesAsync(history.Takes, uncertain, Server?.Flavor == ServerFlavor.MariaDb, ct).ConfigureAwait(false);
        if (await Schema.CurrentPositionAsync(ct).ConfigureAwait(false) != before) return;
        var found = tables.ToDictionary(t => new Ddl.TableName(t.Database, t.Table));
        history.Refresh(uncertain.Select(n => (n, found.GetValueOrDefault(n))),
            new BinlogPosition(_readEnd.File, _readEnd.Position, _tracker!.Committed.Gtid));
    }
}
