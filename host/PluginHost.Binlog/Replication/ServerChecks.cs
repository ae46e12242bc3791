using PluginHost.Binlog.Protocol;

namespace PluginHost.Binlog.Replication;

/// <summary>Checks that a server can be replicated from and reads the settings the stream depends on.</summary>
public static class ServerChecks
{
    public static async Task<ServerSettings> CheckAsync(MySqlProtocolConnection c, CancellationToken ct)
    {
        var flavor = c.IsMariaDb ? ServerFlavor.MariaDb : ServerFlavor.MySql;
        var where = c.Options.Endpoint;
        var vars = await c.QueryAsync(
            "SELECT @@GLOBAL.log_bin, @@GLOBAL.binlog_format, @@GLOBAL.binlog_row_image, @@GLOBAL.binlog_checksum", ct).ConfigureAwait(false);
        var row = vars.Rows[0];
        if (row[0] is not ("1" or "ON"))
            throw new BinlogReplicationException(
                $"The server at {where} has binary logging off (log_bin=0). Start it with log-bin enabled (e.g. log_bin=mysql-bin in my.cnf) and restart it.");
        if (!string.Equals(row[1], "ROW", StringComparison.OrdinalIgnoreCase))
            throw new BinlogReplicationException(
                $"The server at {where} logs in {row[1]} format; change data capture needs binlog_format=ROW. " +
                "Set it in the server config (binlog_format=ROW) or run SET GLOBAL binlog_format='ROW' (new sessions only).");
        var checksum = string.Equals(row[3], "CRC32", StringComparison.OrdinalIgnoreCase) ? ChecksumAlgorithm.Crc32 : ChecksumAlgorithm.Off;
        string? rowMetadata = null;
        try
        {
            var meta = await c.QueryAsync("SELECT @@GLOBAL.binlog_row_metadata", ct).ConfigureAwait(false);
            rowMetadata = meta.Rows[0][0];
        }
        catch (MySqlServerException e) when (e.ErrorCode == 1193)
        {
            // Older servers have no binlog_row_metadata: names come from information_schema.
        }
        var gtidMode = false;
        if (flavor == ServerFlavor.MySql)
        {
            try
            {
                var g = await c.QueryAsync("SELECT @@GLOBAL.gtid_mode", ct).ConfigureAwait(false);
                gtidMode = string.Equals(g.Rows[0][0], "ON", StringComparison.OrdinalIgnoreCase);
            }
            catch (MySqlServerException e) when (e.ErrorCode == 1193) { }
        }
        else gtidMode = true;

        await CheckPrivilegesAsync(c, flavor, ct).ConfigureAwait(false);
        return new ServerSettings(flavor, c.Server.ServerVersion, checksum, row[2] ?? "FULL", rowMetadata, gtidMode);
    }

    /// <summary>Reads SHOW GRANTS and fails naming every missing privilege (skipped when roles may grant them).</summary>
    private static async Task CheckPrivilegesAsync(MySqlProtocolConnection c, ServerFlavor flavor, CancellationToken ct)
    {
        QueryResult grants;
        try
        {
            grants = await c.QueryAsync("SHOW GRANTS FOR CURRENT_USER()", ct).ConfigureAwait(false);
        }
        catch (MySqlServerException)
        {
            return; // the operations themselves will fail with their own errors
        }
        var global = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var anySelect = false;
        var usesRoles = false;
        foreach (var r in grants.Rows)
        {
            var line = r[0] ?? "";
            if (!line.StartsWith("GRANT ", StringComparison.OrdinalIgnoreCase)) continue;
            var on = line.IndexOf(" ON ", StringComparison.OrdinalIgnoreCase);
            if (on < 0)
            {
                usesRoles = true; // GRANT role TO user
                continue;
            }
            var privileges = line[6..on].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var scope = line[(on + 4)..].TrimStart();
            var isGlobal = scope.StartsWith("*.*", StringComparison.Ordinal);
            foreach (var p in privileges)
            {
                var name = p.Split('(')[0].Trim();
                if (isGlobal) global.Add(name);
                if (name.Equals("SELECT", StringComparison.OrdinalIgnoreCase) || name.StartsWith("ALL", StringComparison.OrdinalIgnoreCase)) anySelect = true;
            }
        }
        if (usesRoles || global.Contains("ALL PRIVILEGES") || global.Contains("ALL")) return;
        var missing = new List<string>();
        if (!global.Contains("REPLICATION SLAVE") && !global.Contains("REPLICATION REPLICA")) missing.Add("REPLICATION SLAVE");
        if (!global.Contains("REPLICATION CLIENT") && !global.Contains("BINLOG MONITOR") && !global.Contains("SUPER"))
            missing.Add(flavor == ServerFlavor.MariaDb ? "BINLOG MONITOR (REPLICATION CLIENT)" : "REPLICATION CLIENT");
        if (!anySelect) missing.Add("SELECT");
        if (missing.Count > 0)
            throw new BinlogReplicationException(
                $"The user {c.Options.User} on {c.Options.Endpoint} lacks {string.Join(", ", missing)}. " +
                $"Grant them, e.g.: GRANT {string.Join(", ", missing.Select(m => m.Split(' ')[0] == "BINLOG" ? "BINLOG MONITOR" : m))} ON *.* TO '{c.Options.User}'@'%';");
    }

    /// <summary>The server's current binlog file and position.</summary>
    public static async Task<(string File, long Position)> CurrentPositionAsync(MySqlProtocolConnection c, CancellationToken ct)
    {
        QueryResult status;
        try
        {
            status = await c.QueryAsync("SHOW MASTER STATUS", ct).ConfigureAwait(false);
        }
        catch (MySqlServerException e) when (e.ErrorCode == 1064)
        {
            status = await c.QueryAsync("SHOW BINARY LOG STATUS", ct).ConfigureAwait(false); // MySQL 8.4
        }
        catch (MySqlServerException e) when (e.ErrorCode is 1227 or 1044 or 1045)
        {
            throw new BinlogReplicationException(
                $"SHOW MASTER STATUS was refused for {c.Options.User} on {c.Options.Endpoint}: grant REPLICATION CLIENT (MariaDB: BINLOG MONITOR) ON *.*.", e);
        }
        if (status.Rows.Count == 0 || status.Rows[0][0] is null)
            throw new BinlogReplicationException($"The server at {c.Options.Endpoint} reports no binlog (SHOW MASTER STATUS is empty): enable log_bin.");
        return (status.Rows[0][0]!, long.Parse(status.Rows[0][1]!));
    }

    /// <summary>The oldest binlog file still on the server.</summary>
    public static async Task<string> OldestFileAsync(MySqlProtocolConnection c, CancellationToken ct)
    {
        var logs = await c.QueryAsync("SHOW BINARY LOGS", ct).ConfigureAwait(false);
        if (logs.Rows.Count == 0 || logs.Rows[0][0] is null)
            throw new BinlogReplicationException($"The server at {c.Options.Endpoint} lists no binlog files.");
        return logs.Rows[0][0]!;
    }

    /// <summary>MariaDB: the GTID position corresponding to a file and offset (BINLOG_GTID_POS), or null.</summary>
    public static async Task<string?> MariaDbGtidAtAsync(MySqlProtocolConnection c, string file, long position, CancellationToken ct)
    {
        var r = await c.QueryAsync($"SELECT BINLOG_GTID_POS({Sql.Quote(file)}, {position})", ct).ConfigureAwait(false);
        return r.Rows.Count > 0 ? r.Rows[0][0] : null;
    }
}
