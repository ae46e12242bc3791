using PluginHost.Binlog.Gtid;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;
using PluginHost.Config;

namespace PluginHost.Control;

/// <summary>
/// Checks a seek target against the source server and resolves it to the position to save (file, pos and GTID as far
/// as the server tells them), before anything is written. A target the server cannot serve is refused with a 400 naming
/// the field:
/// <list type="bullet">
/// <item>file+pos: the file is listed by <c>SHOW BINARY LOGS</c>, pos is inside it, an event starts there
/// (<c>SHOW BINLOG EVENTS … FROM pos LIMIT 2</c> reads it, and it ends where the next one starts), and that event does
/// not sit inside a transaction (rows, table map, XID, COMMIT…). MariaDB adds the GTID there (<c>BINLOG_GTID_POS</c>).</item>
/// <item>MariaDB GTID: for each domain, the server has logged that GTID's server id with that sequence or later
/// (<c>@@gtid_binlog_state</c>), and the sequence is not older than the GTID state the oldest binlog starts from
/// (<c>BINLOG_GTID_POS(oldest, 4)</c>, its Gtid_list event): older ones' successors were purged.</item>
/// <item>MySQL GTID set: a subset of <c>@@gtid_executed</c>, and a superset of <c>@@gtid_purged</c>.</item>
/// <item>latest / earliest: resolved now, GTID included (MariaDB <c>BINLOG_GTID_POS</c>; MySQL
/// <c>@@gtid_executed</c> read between two equal <c>SHOW MASTER STATUS</c>, or <c>@@gtid_purged</c>).</item>
/// </list>
/// </summary>
internal static class SeekValidator
{
    /// <summary>
    /// Connects to <paramref name="pipeline"/>'s source and resolves <paramref name="target"/> there; a source that
    /// cannot be reached is <see cref="ControlErrorKind.Unavailable"/>.
    /// </summary>
    public static async Task<(string File, long Position, string? Gtid)> ResolveOnSourceAsync(PipelineDefinition pipeline, SeekTarget target,
        string? field, CancellationToken ct)
    {
        var connection = pipeline.Connection;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(connection.ConnectTimeout + TimeSpan.FromSeconds(10));
            await using var c = await MySqlProtocolConnection.OpenAsync(connection, timeout.Token).ConfigureAwait(false);
            return await ResolveAsync(c, target, timeout.Token, field).ConfigureAwait(false);
        }
        catch (Exception x) when (x is MySqlException or BinlogReplicationException or IOException or TimeoutException or System.Net.Sockets.SocketException
                                      or OperationCanceledException && !ct.IsCancellationRequested)
        {
            throw new ControlException(ControlErrorKind.Unavailable, "Source unavailable",
                Secrets.Scrub($"cannot check '{target}' on {connection.Host}:{connection.Port}: {x.Message}", Secrets.ValuesOf(pipeline))!);
        }
    }

    /// <summary>The place a target names on the server; <paramref name="field"/> replaces the field name in refusals (e.g. <c>checkpoint</c>).</summary>
    public static async Task<(string File, long Position, string? Gtid)> ResolveAsync(MySqlProtocolConnection c, SeekTarget target,
        CancellationToken ct, string? field = null)
    {
        switch (target.Kind)
        {
            case SeekKind.Latest:
            {
                var (file, pos) = await ServerChecks.CurrentPositionAsync(c, ct).ConfigureAwait(false);
                if (c.IsMariaDb) return (file, pos, await GtidAtAsync(c, file, pos, ct).ConfigureAwait(false));
                for (var attempt = 0; attempt < 3; attempt++)
                {
                    var executed = await ScalarAsync(c, "SELECT @@GLOBAL.gtid_executed", ct).ConfigureAwait(false);
                    var again = await ServerChecks.CurrentPositionAsync(c, ct).ConfigureAwait(false);
                    if (again == (file, pos)) return (file, pos, Blank(executed));
                    (file, pos) = again;
                }
                return (file, pos, null); // a busy server: the GTID follows from the first transaction read
            }
            case SeekKind.Earliest:
            {
                var file = await ServerChecks.OldestFileAsync(c, ct).ConfigureAwait(false);
                var gtid = c.IsMariaDb
                    ? await GtidAtAsync(c, file, 4, ct).ConfigureAwait(false)
                    : Blank(await ScalarAsync(c, "SELECT @@GLOBAL.gtid_purged", ct).ConfigureAwait(false));
                return (file, 4, gtid);
            }
            case SeekKind.Gtid:
                return ("", 0, await CheckGtidAsync(c, target.Gtid!, field ?? "gtid", ct).ConfigureAwait(false));
            default:
            {
                await CheckPositionAsync(c, target.File!, target.Position, field, ct).ConfigureAwait(false);
                return (target.File!, target.Position,
                    target.Gtid ?? (c.IsMariaDb ? await GtidAtAsync(c, target.File!, target.Position, ct).ConfigureAwait(false) : null));
            }
        }
    }

    private static async Task CheckPositionAsync(MySqlProtocolConnection c, string file, long pos, string? field, CancellationToken ct)
    {
        var logs = await c.QueryAsync("SHOW BINARY LOGS", ct).ConfigureAwait(false);
        var row = logs.Rows.FirstOrDefault(r => r[0] == file);
        if (row is null)
            throw Refuse(field ?? "file", $"'{file}' is not a binlog file of the server (it has: {string.Join(", ", logs.Rows.Select(r => r[0]))})");
        if (long.TryParse(row.ElementAtOrDefault(1), out var size) && pos > size)
            throw Refuse(field ?? "pos", $"{pos} is past the end of {file} ({size} bytes)");
        if (pos == size) return; // the end of the file: where the next event will go
        QueryResult events;
        try
        {
            events = await c.QueryAsync($"SHOW BINLOG EVENTS IN {Sql.Quote(file)} FROM {pos} LIMIT 2", ct).ConfigureAwait(false);
        }
        catch (MySqlServerException e) when (e.ErrorCode == 1220)
        {
            throw Refuse(field ?? "pos", $"no event starts at {pos} in {file} (the server: {e.Message}); take a position from SHOW BINLOG EVENTS IN '{file}' " +
                                         "(the Pos of a Gtid event, or the End_log_pos of a transaction's last event) or SHOW MASTER STATUS");
        }
        // Columns: Log_name, Pos, Event_type, Server_id, End_log_pos, Info.
        if (events.Rows.Count == 0 || events.Rows[0][1] != pos.ToString(System.Globalization.CultureInfo.InvariantCulture) ||
            events.Rows.Count == 2 && events.Rows[0][4] != events.Rows[1][1])
            throw Refuse(field ?? "pos", $"no event starts at {pos} in {file}; take a position from SHOW BINLOG EVENTS IN '{file}'");
        var type = events.Rows[0][2] ?? "";
        if (InsideTransaction(type, events.Rows[0][5]))
            throw Refuse(field ?? "pos", $"{pos} in {file} is inside a transaction (a {type} event): start at the transaction's Gtid event, " +
                                         "or at the End_log_pos of its last event (Xid or COMMIT)");
    }

    /// <summary>Events that only occur between a transaction's start and its commit: resuming there would read half a transaction.</summary>
    private static bool InsideTransaction(string type, string? info) =>
        type.Contains("_rows", StringComparison.OrdinalIgnoreCase) || type.StartsWith("Rows_", StringComparison.OrdinalIgnoreCase) ||
        type is "Table_map" or "Xid" or "XA_prepare" or "Intvar" or "Rand" or "User_var" ||
        type == "Query" && info is { } q && (q.StartsWith("COMMIT", StringComparison.OrdinalIgnoreCase) ||
                                              q.StartsWith("ROLLBACK", StringComparison.OrdinalIgnoreCase) ||
                                              q.StartsWith("XA END", StringComparison.OrdinalIgnoreCase) ||
                                              q.StartsWith("XA PREPARE", StringComparison.OrdinalIgnoreCase));

    private static async Task<string> CheckGtidAsync(MySqlProtocolConnection c, string gtid, string field, CancellationToken ct)
    {
        if (!c.IsMariaDb)
        {
            if (!MySqlGtidSet.TryParse(gtid, out var set))
                throw Refuse(field, $"'{gtid}' is a MariaDB GTID, but the server is MySQL: give a GTID set (uuid:1-42)");
            var text = Sql.Quote(set.ToString());
            var r = await c.QueryAsync($"SELECT GTID_SUBTRACT({text}, @@GLOBAL.gtid_executed), GTID_SUBTRACT(@@GLOBAL.gtid_purged, {text})", ct)
                .ConfigureAwait(false);
            if (Blank(r.Rows[0][0]) is { } never)
                throw Refuse(field, $"the server never executed {never}: it is not a position of this server");
            if (Blank(r.Rows[0][1]) is { } purged)
                throw Refuse(field, $"the transactions {purged} that follow it were purged from the server's binlogs: seek to a later position or re-snapshot");
            return set.ToString();
        }
        if (!MariaDbGtidList.TryParse(gtid, out var list))
            throw Refuse(field, $"'{gtid}' is a MySQL GTID set, but the server is MariaDB: give domain-server-sequence GTIDs (0-1-42)");
        if (list.IsEmpty) throw Refuse(field, "is empty");
        var state = ParseState(await ScalarAsync(c, "SELECT @@GLOBAL.gtid_binlog_state", ct).ConfigureAwait(false));
        var oldest = await ServerChecks.OldestFileAsync(c, ct).ConfigureAwait(false);
        var before = ParseState(await GtidAtAsync(c, oldest, 4, ct).ConfigureAwait(false));
        var stateText = state.Count == 0 ? "empty" : string.Join(",", state);
        foreach (var g in list)
        {
            var domain = state.Where(s => s.DomainId == g.DomainId).ToList();
            if (domain.Count == 0)
                throw Refuse(field, $"the server has no transaction in domain {g.DomainId} (its GTID state: {stateText}): it never had {g}");
            var newest = domain.MaxBy(s => s.Sequence);
            if (g.Sequence > newest.Sequence)
                throw Refuse(field, $"{g} is past the server's newest transaction in domain {g.DomainId} ({newest}): the server never had it");
            if (!domain.Any(s => s.ServerId == g.ServerId && s.Sequence >= g.Sequence))
                throw Refuse(field, $"the server has no transaction from server id {g.ServerId} up to {g} in domain {g.DomainId} (its GTID state: {stateText})");
            if (before.Where(s => s.DomainId == g.DomainId).Select(s => (MariaDbGtid?)s).MaxBy(s => s!.Value.Sequence) is { } first && g.Sequence < first.Sequence)
                throw Refuse(field, $"{g} is older than the server's oldest binlog {oldest}, which starts after {first}: the transactions that follow {g} " +
                                    $"were purged; seek to {first} or later, or re-snapshot");
        }
        return list.ToString();
    }

    /// <summary>A MariaDB GTID state (several GTIDs per domain allowed); blank is empty.</summary>
    private static List<MariaDbGtid> ParseState(string? text) =>
        string.IsNullOrWhiteSpace(text) ? [] : text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(MariaDbGtid.Parse).ToList();

    private static async Task<string?> GtidAtAsync(MySqlProtocolConnection c, string file, long pos, CancellationToken ct) =>
        Blank(await ServerChecks.MariaDbGtidAtAsync(c, file, pos, ct).ConfigureAwait(false));

    private static async Task<string?> ScalarAsync(MySqlProtocolConnection c, string sql, CancellationToken ct)
    {
        var r = await c.QueryAsync(sql, ct).ConfigureAwait(false);
        return r.Rows.Count > 0 ? r.Rows[0][0] : null;
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim().Replace("\n", "", StringComparison.Ordinal);

    private static ControlException Refuse(string field, string message) =>
        new(ControlErrorKind.Invalid, "Invalid seek target", $"the server cannot serve this position: {message}",
            new Dictionary<string, string[]> { [field] = [message] });
}
