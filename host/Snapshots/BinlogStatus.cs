using System.Globalization;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;

namespace PluginHost.Snapshots;

/// <summary>The binlog positions a chunk is ordered by: MariaDB's snapshot position, or the binlog's end (a watermark).</summary>
internal static class BinlogStatus
{
    /// <summary>The end of the binlog now: <c>SHOW MASTER STATUS</c>, or <c>SHOW BINARY LOG STATUS</c> on MySQL 8.2+ (8.4
    /// removed the former). A watermark: not exact.</summary>
    public static async Task<SnapshotPosition> WatermarkAsync(MySqlProtocolConnection c, CancellationToken ct)
    {
        var newMySql = !c.IsMariaDb && c.Server.Version is { } v && v >= new Version(8, 2);
        QueryResult status;
        try
        {
            status = await c.QueryAsync(newMySql ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS", ct).ConfigureAwait(false);
        }
        catch (MySqlServerException e) when (e.ErrorCode == 1064 && !newMySql)
        {
            status = await c.QueryAsync("SHOW BINARY LOG STATUS", ct).ConfigureAwait(false);
        }
        catch (MySqlServerException e) when (e.ErrorCode is 1227 or 1044 or 1045)
        {
            throw new SnapshotException($"Reading the binlog position was refused for {c.Options.User} on {c.Options.Endpoint}: grant REPLICATION CLIENT (MariaDB: BINLOG MONITOR) ON *.*.", e);
        }
        if (status.Rows.Count == 0 || status.Rows[0][0] is not { Length: > 0 } file)
            throw new SnapshotException($"The server at {c.Options.Endpoint} has no binary log (SHOW MASTER STATUS is empty): enable log_bin.");
        string? gtid = null;
        for (var i = 0; i < status.ColumnNames.Count; i++)
            if (status.ColumnNames[i] == "Executed_Gtid_Set" && status.Rows[0][i] is { Length: > 0 } set) gtid = set.Replace("\n", "", StringComparison.Ordinal);
        return new SnapshotPosition(file, long.Parse(status.Rows[0][1]!, CultureInfo.InvariantCulture), gtid, IsExact: false);
    }

    /// <summary>MariaDB, inside <c>START TRANSACTION WITH CONSISTENT SNAPSHOT</c>: the binlog position of the snapshot
    /// (<c>binlog_snapshot_file</c>/<c>binlog_snapshot_position</c>), exact; with its GTID position when asked.</summary>
    public static async Task<SnapshotPosition> SnapshotAsync(MySqlProtocolConnection c, bool resolveGtid, CancellationToken ct)
    {
        var status = await c.QueryAsync("SHOW STATUS LIKE 'binlog\\_snapshot\\_%'", ct).ConfigureAwait(false);
        string? file = null, position = null;
        foreach (var row in status.Rows)
        {
            if (string.Equals(row[0], "Binlog_snapshot_file", StringComparison.OrdinalIgnoreCase)) file = row[1];
            else if (string.Equals(row[0], "Binlog_snapshot_position", StringComparison.OrdinalIgnoreCase)) position = row[1];
        }
        if (file is not { Length: > 0 } || !long.TryParse(position, NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            throw new SnapshotException(
                $"The server at {c.Options.Endpoint} gives no binlog_snapshot_file/position (binary log off, or not MariaDB): enable log_bin, or use the watermark mode.");
        string? gtid = null;
        if (resolveGtid)
        {
            var r = await c.QueryAsync($"SELECT BINLOG_GTID_POS({Sql.Quote(file)}, {offset.ToString(CultureInfo.InvariantCulture)})", ct).ConfigureAwait(false);
            gtid = r.Rows.Count > 0 ? r.Rows[0][0] : null;
        }
        return new SnapshotPosition(file, offset, gtid, IsExact: true);
    }
}
