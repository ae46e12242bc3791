using System.Diagnostics;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>The generated workload and the binlog files it produced, created once per test run.</summary>
internal sealed class OracleRun
{
    private static readonly object Gate = new();
    private static OracleRun? _run;
    private static Exception? _failure;

    /// <summary>The workload runs once per test run (shared with the fuzz test); a failure to create it fails each user.</summary>
    internal static OracleRun Shared(MariaDbServer server)
    {
        lock (Gate)
        {
            if (_failure != null) throw new InvalidOperationException("creating the oracle workload failed", _failure);
            try
            {
                return _run ??= Create(server);
            }
            catch (Exception e)
            {
                _failure = e;
                throw;
            }
        }
    }

    public required int Seed { get; init; }
    public required string Database { get; init; }
    public required OracleWorkload Workload { get; init; }
    public required List<string> SegmentA { get; init; }   // FULL metadata; FULL, MINIMAL, NOBLOB images
    public required List<string> SegmentB { get; init; }   // MINIMAL and NO_LOG metadata
    public required List<string> SegmentC { get; init; }   // hires temporal table (mariadb-binlog cannot print it)
    public required Dictionary<string, Dictionary<long, string[]>> SnapshotA { get; init; }
    public required Dictionary<string, TableSchema> Schema { get; init; }
    public required string Summary { get; init; }

    public BinlogEventDecoder NewSchemaAwareDecoder(ReplayStats stats, bool verifyChecksums = true)
    {
        var decoder = new BinlogEventDecoder(verifyChecksums: verifyChecksums);
        decoder.OnTableMapWithoutMetadata = map =>
        {
            if (!map.HasColumnNames) stats.MapsWithoutNames++;
            if (map.Database != Database || !Schema.TryGetValue(map.Table, out var schema)) return;
            map.ApplySchema(schema);
            stats.SchemaApplied++;
        };
        return decoder;
    }

    public Dictionary<long, string[]> Select(MariaDbServer db, OracleTable t)
    {
        var text = db.ClientSql($"SET SESSION time_zone='+00:00'; SELECT `id`, {string.Join(", ", t.Columns.Select(c => c.SelectExpression))} FROM `{t.Name}` ORDER BY `id`;", Database);
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToDictionary(f => long.Parse(f[0]));
    }

    public static OracleRun Create(MariaDbServer db)
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("PLUGINHOST_ORACLE_SEED"), out var s) ? s : 20251121;
        var sw = Stopwatch.StartNew();
        var w = new OracleWorkload(seed);
        // A fixed name keeps the binlog (and so the fuzz test's input) the same from run to run.
        var database = $"oracle_{seed}";
        db.Sql($"DROP DATABASE IF EXISTS `{database}`; CREATE DATABASE `{database}`;");
        var startFile = db.FlushLogs();
        var ddl = string.Join("\n", w.Tables.Select(t => t.CreateSql));
        db.Sql(ddl, database);
        try
        {
            db.Sql($"SET GLOBAL mysql56_temporal_format=OFF; {w.OldTemporalTable.CreateSql} {w.HiresTable.CreateSql}", database);
        }
        finally
        {
            db.Sql("SET GLOBAL mysql56_temporal_format=ON;");
        }

        var tables = w.Tables.Concat([w.OldTemporalTable]).ToList();
        var counts = new Dictionary<string, int> { ["t_num"] = 800, ["t_time"] = 800, ["t_str"] = 450, ["t_enum"] = 600, ["t_old_temporal"] = 250 };
        // Segment A: FULL metadata.
        db.Sql(OracleWorkload.SessionPrelude("FULL") + string.Concat(tables.Select(t => w.Inserts(t, counts[t.Name]))), database);
        db.Sql(OracleWorkload.SessionPrelude("FULL") + Interleave(tables.Select(t => w.Changes(t, 150)).ToList()), database);
        db.Sql(OracleWorkload.SessionPrelude("MINIMAL") + Interleave(tables.Select(t => w.Changes(t, 60)).ToList()), database);
        db.Sql(OracleWorkload.SessionPrelude("NOBLOB") + Interleave(tables.Select(t => w.Changes(t, 60)).ToList())
               + string.Concat(tables.Select(t => w.Inserts(t, 20))), database);
        var afterA = db.FlushLogs();
        var run0 = new Dictionary<string, Dictionary<long, string[]>>();
        var schema = InformationSchema.Load(db, database);
        var probe = new OracleRun
        {
            Seed = seed, Database = database, Workload = w, SegmentA = [], SegmentB = [], SegmentC = [], SnapshotA = run0,
            Schema = schema, Summary = "",
        };
        foreach (var t in tables) run0[t.Name] = probe.Select(db, t);

        // Segment B: MINIMAL, then NO_LOG table-map metadata (a global-only variable: restored afterwards).
        try
        {
            foreach (var meta in new[] { "MINIMAL", "NO_LOG" })
                db.Sql($"SET GLOBAL binlog_row_metadata={meta};\n" + OracleWorkload.SessionPrelude("FULL")
                       + string.Concat(tables.Select(t => w.Inserts(t, 60)))
                       + Interleave(tables.Select(t => w.Changes(t, 40)).ToList()), database);
        }
        finally
        {
            db.Sql("SET GLOBAL binlog_row_metadata=FULL;");
        }
        var afterB = db.FlushLogs();

        // Segment C: the hires table, in files of its own (mariadb-binlog stops at its first row event).
        db.Sql(OracleWorkload.SessionPrelude("FULL") + w.Inserts(w.HiresTable, 300) + w.Changes(w.HiresTable, 120), database);
        var afterC = db.FlushLogs();

        var files = db.BinlogFiles().ToList();
        int Index(string name) => files.FindIndex(f => Path.GetFileName(f) == name);
        var run = new OracleRun
        {
            Seed = seed, Database = database, Workload = w,
            SegmentA = files[Index(startFile)..Index(afterA)],
            SegmentB = files[Index(afterA)..Index(afterB)],
            SegmentC = files[Index(afterB)..Index(afterC)],
            SnapshotA = run0, Schema = schema,
            Summary = $"oracle workload: seed {seed} (set PLUGINHOST_ORACLE_SEED to change), database {database}, generated in {sw.ElapsedMilliseconds} ms; " +
                      $"binlogs A={string.Join(",", files[Index(startFile)..Index(afterA)].Select(Path.GetFileName))} " +
                      $"B={string.Join(",", files[Index(afterA)..Index(afterB)].Select(Path.GetFileName))} " +
                      $"C={string.Join(",", files[Index(afterB)..Index(afterC)].Select(Path.GetFileName))}",
        };
        return run;
    }

    private static string Interleave(List<string> scripts)
    {
        // Statement-wise round robin, so that transactions of different tables alternate.
        var parts = scripts.Select(s => new Queue<string>(SplitTransactions(s))).ToList();
        var sb = new System.Text.StringBuilder();
        while (parts.Any(q => q.Count > 0))
            foreach (var q in parts)
                if (q.TryDequeue(out var x)) sb.Append(x);
        return sb.ToString();
    }

    private static IEnumerable<string> SplitTransactions(string script)
    {
        var sb = new System.Text.StringBuilder();
        var inTx = false;
        foreach (var line in script.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            sb.Append(line).Append('\n');
            if (line == "BEGIN;") inTx = true;
            if (line is "COMMIT;" or "ROLLBACK;") inTx = false;
            if (!inTx) { yield return sb.ToString(); sb.Clear(); }
        }
        if (sb.Length > 0) yield return sb.ToString();
    }
}
