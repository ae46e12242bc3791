using System.Globalization;
using System.Text;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Binlog.Protocol;
using PluginHost.Binlog.Replication;
using PluginHost.Binlog.Values;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Replication;

/// <summary>Helpers shared by the replication tests: client options, row rendering, file decode, bounded reads.</summary>
internal static class Repl
{
    private static int _nextServerId = 1000;

    /// <summary>A distinct replica server id per client, so clients never kick each other off the server.</summary>
    public static uint NextServerId() => (uint)Interlocked.Increment(ref _nextServerId);

    public static ConnectionOptions Connection(MariaDbServer db, string? user = null, string? password = null) => new()
    {
        Host = db.Host,
        Port = db.Port,
        User = user ?? db.User,
        Password = password ?? db.Password,
        SslMode = SslMode.None,
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    public static BinlogClientOptions Options(MariaDbServer db, BinlogStart start, ITestOutputHelper? output = null,
        TimeSpan? heartbeat = null, string? user = null, string? password = null) => new()
    {
        Connection = Connection(db, user, password),
        ServerId = NextServerId(),
        Start = start,
        HeartbeatInterval = heartbeat ?? TimeSpan.FromSeconds(1),
        ReconnectDelay = TimeSpan.FromMilliseconds(50),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(500),
        Log = output == null ? null : Logger(output),
    };

    private static Action<string> Logger(ITestOutputHelper output) => m =>
    {
        try { output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} client: {m}"); } catch (InvalidOperationException) { }
    };

    /// <summary>The server's current binlog file and position (SHOW MASTER STATUS through the CLI).</summary>
    public static (string File, long Position) MasterStatus(MariaDbServer db)
    {
        var f = db.Sql("SHOW MASTER STATUS;").Split('\n')[0].Split('\t');
        return (f[0], long.Parse(f[1], CultureInfo.InvariantCulture));
    }

    public static string GtidBinlogPos(MariaDbServer db) => db.Sql("SELECT @@GLOBAL.gtid_binlog_pos;").Trim();

    /// <summary>One changed row as text: table, operation, and every column as name=value (ColumnValue.ToString()).</summary>
    public static IEnumerable<string> Render(RowsEvent e)
    {
        foreach (var r in e.Rows)
            yield return $"{e.Table.Database}.{e.Table.Table} {e.Kind} {Image(e.Table, r.Before)} -> {Image(e.Table, r.After)}";
    }

    private static string Image(TableMapEvent t, ColumnValue[]? values)
    {
        if (values is null) return "-";
        var sb = new StringBuilder("{");
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].IsMissing) continue;
            if (sb.Length > 1) sb.Append(", ");
            sb.Append(t.Columns[i].Name ?? "@" + (i + 1)).Append('=').Append(values[i].ToString());
        }
        return sb.Append('}').ToString();
    }

    /// <summary>Rows of the given events (rendered after the fact, so values must not depend on reused buffers).</summary>
    public static List<string> Rows(IEnumerable<BinlogEvent> events, string? database = null) =>
        events.OfType<RowsEvent>().Where(e => database == null || e.Table.Database == database).SelectMany(Render).ToList();

    /// <summary>
    /// Decodes the binlog files from <paramref name="file"/>:<paramref name="position"/> onwards with <see cref="BinlogFileReader"/>
    /// (events before the position are decoded for state, not returned).
    /// </summary>
    public static List<BinlogEvent> DecodeFiles(MariaDbServer db, string file, long position)
    {
        var result = new List<BinlogEvent>();
        foreach (var path in db.BinlogFiles().Where(p => string.CompareOrdinal(Path.GetFileName(p), file) >= 0))
        {
            using var reader = new BinlogFileReader(path);
            var first = Path.GetFileName(path) == file;
            while (reader.ReadEvent() is { } e)
                if (!first || e.Header.Position >= position) result.Add(e);
        }
        return result;
    }

    /// <summary>
    /// Asserts that <paramref name="committed"/> is where the server's binlog ends, but for housekeeping events the server
    /// may add at any time (binlog checkpoints): no transaction follows it.
    /// </summary>
    public static void AtEndOfTransactions(MariaDbServer db, BinlogPosition committed)
    {
        var (file, position) = MasterStatus(db);
        Assert.True(committed.CompareFileOffset(file, position) <= 0, $"Committed {committed} is past the end of the binlog {file}:{position}");
        var after = DecodeFiles(db, committed.File, committed.Position);
        Assert.True(after.Count == 0 || after[0].Header.Position == committed.Position || after[0] is FormatDescriptionEvent,
            $"Committed {committed} is not an event boundary");
        Assert.DoesNotContain(after, e => e is MariaDbGtidEvent or RowsEvent or QueryEvent);
    }

    /// <summary>
    /// (file, offset) of every event in the binlog files from <paramref name="file"/> on, read raw (not decoded), up to and
    /// including <paramref name="last"/>.
    /// </summary>
    public static List<(string File, long Position)> RawPositions(MariaDbServer db, string file, (string File, long Position) last)
    {
        var result = new List<(string, long)>();
        foreach (var path in db.BinlogFiles().Where(p => string.CompareOrdinal(Path.GetFileName(p), file) >= 0))
        {
            using var reader = new BinlogFileReader(path);
            var name = Path.GetFileName(path);
            while (true)
            {
                var position = reader.Position;
                if (reader.NextRaw().IsEmpty) break;
                result.Add((name, position));
                if ((name, position) == last) return result;
            }
        }
        Assert.Fail($"{last} not found in the binlog files");
        return result;
    }

    /// <summary>Inserts a marker row; streams stop at the row whose value is this marker.</summary>
    public static bool IsMarker(BinlogEvent e, string table, string marker) =>
        e is RowsEvent r && r.Table.Table == table && r.Rows.Any(x => x.After is { } a && a.Any(v => v.ToString() == marker));

    /// <summary>Events of a file decode up to and including the first rows event holding the marker.</summary>
    public static List<BinlogEvent> UpToMarker(List<BinlogEvent> events, string table, string marker)
    {
        var i = events.FindIndex(e => IsMarker(e, table, marker));
        Assert.True(i >= 0, $"marker {marker} not found in the file decode");
        return events.Take(i + 1).ToList();
    }

    /// <summary>Asserts two row lists are identical, showing the first difference.</summary>
    public static void SameRows(IReadOnlyList<string> expected, IReadOnlyList<string> actual, string what)
    {
        for (var i = 0; i < Math.Min(expected.Count, actual.Count); i++)
            if (expected[i] != actual[i])
                Assert.Fail($"{what}: row {i} differs\n expected: {expected[i]}\n actual:   {actual[i]}");
        if (expected.Count != actual.Count)
            Assert.Fail($"{what}: expected {expected.Count} rows, got {actual.Count}" +
                (actual.Count > expected.Count ? $"; first extra: {actual[expected.Count]}" : $"; first missing: {expected[actual.Count]}"));
    }
}
