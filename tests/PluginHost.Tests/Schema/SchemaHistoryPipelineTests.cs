using System.Globalization;
using System.Text;
using PluginHost.Logging;
using PluginHost.Sdk;
using PluginHost.Tests.Pipelines;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Schema;

/// <summary>
/// Issue 17's DDL scenario through a pipeline on the real MariaDB: rows written before, between and after ALTERs that
/// the host reads only later (stopped, or running behind a held sink) arrive under the names they were written with,
/// on MINIMAL and on FULL row metadata; the history is kept with the checkpoint across restarts.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SchemaHistoryPipelineTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = TestTemp.CreateSubdirectory("pluginhost-schema-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Sink => Path.Combine(_dir, "out.jsonl");
    private string State => Path.Combine(_dir, "state");

    private PluginHost.Config.PipelineDefinition Definition(MariaDbServer db, string start = "latest") =>
        Kit.Config(_dir, Kit.PipelineYaml(db, "ddl", start, """{ include: ["m.*"] }""", Sink, extra: "    queue_chunks: 1\n    batch_size: 10")).Pipelines[0];

    /// <summary>The issue's statements: 300 rows and 50 updates of (id, a, b), ADD c, 300 rows, DROP a, 300 rows, RENAME.</summary>
    private static string Scenario()
    {
        var sql = new StringBuilder("CREATE TABLE m.t (id INT PRIMARY KEY, a VARCHAR(20), b INT);\n");
        for (var id = 1; id <= 300; id++) sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO m.t VALUES ({id}, 'a{id}', {id * 10});\n");
        sql.Append("UPDATE m.t SET a = CONCAT('u', id) WHERE id <= 50;\n");
        sql.Append("ALTER TABLE m.t ADD COLUMN c INT;\n");
        for (var id = 301; id <= 600; id++) sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO m.t VALUES ({id}, 'a{id}', {id * 10}, {id * 100});\n");
        sql.Append("ALTER TABLE m.t DROP COLUMN a;\n");
        for (var id = 601; id <= 900; id++) sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO m.t VALUES ({id}, {id * 10}, {id * 100});\n");
        sql.Append("RENAME TABLE m.t TO m.t_renamed;\n");
        return sql.ToString();
    }

    /// <summary>Every event of m.t has exactly the columns of its phase, each value under its own name.</summary>
    private static void AssertRightNames(List<ChangeEvent> events)
    {
        var rows = events.Where(e => e.Table == "t").ToList();
        Assert.Equal(950, rows.Count);
        foreach (var e in rows)
        {
            foreach (var image in new[] { e.Before, e.After })
            {
                if (image is null) continue;
                var names = image.Select(v => v.Key).ToList();
                var id = Convert.ToInt64(image["id"], CultureInfo.InvariantCulture);
                string[] expected = id <= 300 ? ["id", "a", "b"] : id <= 600 ? ["id", "a", "b", "c"] : ["id", "b", "c"];
                Assert.True(expected.SequenceEqual(names), $"row {id}: columns [{string.Join(", ", names)}], expected [{string.Join(", ", expected)}]");
                Assert.Equal(id * 10, Convert.ToInt64(image["b"], CultureInfo.InvariantCulture));
                if (names.Contains("a")) Assert.True($"a{id}" == (string?)image["a"] || $"u{id}" == (string?)image["a"], $"row {id}: a = {image["a"]}");
                if (names.Contains("c")) Assert.Equal(id * 100, Convert.ToInt64(image["c"], CultureInfo.InvariantCulture));
            }
        }
        Assert.Equal(50, rows.Count(e => e.Op == ChangeOperation.Update));
    }

    [Theory]
    [InlineData("MINIMAL")]
    [InlineData("FULL")]
    public async Task Rows_written_while_the_host_was_stopped_keep_the_names_they_were_written_with(string metadata)
    {
        using var db = new MariaDbServer($"--binlog-row-metadata={metadata}");
        db.Sql("CREATE DATABASE m; CREATE TABLE m.warm (id INT PRIMARY KEY);");
        await using (var first = new HistoryPipeline(Definition(db), State, output))
        {
            await first.WaitRunning();
            db.Sql("INSERT INTO m.warm VALUES (1);");
            await Kit.WaitUntil(() => Kit.Lines(Sink).Count == 1, "the warm-up row");
            await first.StopAsync(); // the checkpoint: after the warm-up row, before everything below
            Assert.Equal(metadata == "FULL" ? 0 : 1, first.Log.Count(EventIds.SchemaRowMetadataNotFull));
        }
        Assert.True(File.Exists(Path.Combine(State, "ddl.schema-history.jsonl")));

        db.Sql(Scenario()); // the host is stopped during all of it
        await using var second = new HistoryPipeline(Definition(db), State, output);
        await Kit.WaitUntil(() => Kit.Lines(Sink).Count >= 951, "every row", TimeSpan.FromSeconds(60));
        AssertRightNames(Kit.Events(Sink));
        Assert.Equal(0, second.Log.Count(EventIds.SchemaTableUncertain));
        Assert.Equal(0, second.Runner.UncertainTables);
        Assert.Equal(metadata == "FULL" ? 0 : 1, second.Log.Count(EventIds.SchemaRowMetadataNotFull));
    }

    [Theory]
    [InlineData("MINIMAL")]
    [InlineData("FULL")]
    public async Task Rows_read_while_the_host_lags_behind_the_ddl_keep_their_names(string metadata)
    {
        using var db = new MariaDbServer($"--binlog-row-metadata={metadata}");
        db.Sql("CREATE DATABASE m;");
        // The sink holds every write: the reader stops after a chunk or two, far behind the statements below.
        await using var p = new HistoryPipeline(Definition(db), State, output, gateOpen: false);
        await p.WaitRunning();
        db.Sql(Scenario());
        Assert.True(Kit.Lines(Sink).Count < 100, "the pipeline was expected to lag");
        p.Sink.Open();
        await Kit.WaitUntil(() => Kit.Lines(Sink).Count >= 950, "every row", TimeSpan.FromSeconds(60));
        AssertRightNames(Kit.Events(Sink));
        Assert.Equal(0, p.Log.Count(EventIds.SchemaTableUncertain));
        Assert.Equal(0, p.Runner.UncertainTables);
    }

    [Fact]
    public async Task A_restart_in_the_middle_applies_the_history_up_to_the_checkpoint()
    {
        using var db = new MariaDbServer("--binlog-row-metadata=MINIMAL");
        db.Sql("CREATE DATABASE m;");
        var statements = Scenario().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var half = Array.FindIndex(statements, s => s.StartsWith("ALTER TABLE m.t DROP", StringComparison.Ordinal)) - 100;
        await using (var first = new HistoryPipeline(Definition(db), State, output))
        {
            await first.WaitRunning();
            db.Sql(string.Join('\n', statements[..half])); // CREATE, 300 rows, updates, ADD c, 200 rows
            await Kit.WaitUntil(() => Kit.Lines(Sink).Count >= 550, "the first half", TimeSpan.FromSeconds(60));
            await first.StopAsync();
        }
        var history = File.ReadAllLines(Path.Combine(State, "ddl.schema-history.jsonl"));
        Assert.Contains(history, l => l.Contains("\"name\":\"c\"", StringComparison.Ordinal));

        db.Sql(string.Join('\n', statements[half..])); // 100 rows with c, DROP a, 300 rows, RENAME
        await using var second = new HistoryPipeline(Definition(db), State, output);
        await Kit.WaitUntil(() => Kit.Lines(Sink).Count >= 950, "every row", TimeSpan.FromSeconds(60));
        AssertRightNames(Kit.Events(Sink));
        Assert.Equal(0, second.Log.Count(EventIds.SchemaTableUncertain));
        // Compacted at the restart: one line per database and table as of the checkpoint, then what the second run read.
        var lines = File.ReadAllLines(Path.Combine(State, "ddl.schema-history.jsonl"));
        Assert.Single(lines, l => l.Contains("\"table\":\"t_renamed\"", StringComparison.Ordinal) && !l.Contains("dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_statement_the_history_cannot_read_gives_positional_names_once_warned_until_a_refresh_or_create()
    {
        using var db = new MariaDbServer("--binlog-row-metadata=MINIMAL");
        db.Sql("CREATE DATABASE m; CREATE DATABASE noise; CREATE TABLE noise.n (id INT AUTO_INCREMENT PRIMARY KEY); CREATE TABLE m.v (id INT PRIMARY KEY, x INT);");
        await using var p = new HistoryPipeline(Definition(db), State, output);
        await p.WaitRunning();
        db.Sql("INSERT INTO m.v VALUES (1, 10);");
        await Kit.WaitUntil(() => Kit.Lines(Sink).Count == 1, "row 1");

        // Writes elsewhere keep the server from idling: no heartbeat, so no refresh while they go on.
        using var noise = new CancellationTokenSource();
        var noiseTask = Task.Run(async () =>
        {
            while (!noise.IsCancellationRequested)
            {
                db.Sql("INSERT INTO noise.n VALUES ();");
                await Task.Delay(150);
            }
        });
        try
        {
            // System versioning is a statement the history does not read (it can add columns no clause names).
            db.Sql("ALTER TABLE m.v ADD COLUMN rs TIMESTAMP(6) GENERATED ALWAYS AS ROW START, ADD COLUMN re TIMESTAMP(6) GENERATED ALWAYS AS ROW END, " +
                   "ADD PERIOD FOR SYSTEM_TIME(rs, re), ADD SYSTEM VERSIONING; INSERT INTO m.v (id, x) VALUES (2, 20); INSERT INTO m.v (id, x) VALUES (3, 30); INSERT INTO m.v (id, x) VALUES (4, 40);");
            await Kit.WaitUntil(() => Kit.Lines(Sink).Count == 4, "rows 2-4");
            var uncertain = Kit.Events(Sink)[1..];
            Assert.All(uncertain, e => Assert.All(e.After!, v => Assert.StartsWith("@", v.Key)));
            Assert.Equal(["@1", "@2", "@3", "@4"], uncertain[0].After!.Select(v => v.Key));
            Assert.Equal(1, p.Log.Count(EventIds.SchemaTableUncertain));
            Assert.Equal(1, p.Runner.UncertainTables);
        }
        finally
        {
            await noise.CancelAsync();
            await noiseTask;
        }

        // Caught up and idle: the next heartbeat describes m.v again from information_schema.
        await Kit.WaitUntil(() => p.Runner.UncertainTables == 0, "the refresh at the binlog's end", TimeSpan.FromSeconds(20));
        Assert.Equal(1, p.Log.Count(EventIds.SchemaTableKnownAgain));
        db.Sql("INSERT INTO m.v (id, x) VALUES (5, 50);");
        await Kit.WaitUntil(() => Kit.Lines(Sink).Count == 5, "row 5");
        var refreshed = Kit.Events(Sink)[^1].After!;
        Assert.Equal(["id", "x", "rs", "re"], refreshed.Select(v => v.Key));
        Assert.Equal(50, Convert.ToInt32(refreshed["x"], CultureInfo.InvariantCulture));

        // Uncertain again, then a CREATE TABLE (not a refresh: the noise goes on) makes it known.
        using var noise2 = new CancellationTokenSource();
        var noiseTask2 = Task.Run(async () =>
        {
            while (!noise2.IsCancellationRequested)
            {
                db.Sql("INSERT INTO noise.n VALUES ();");
                await Task.Delay(150);
            }
        });
        try
        {
            db.Sql("SET SESSION system_versioning_alter_history = KEEP; ALTER TABLE m.v DROP SYSTEM VERSIONING, DROP PERIOD FOR SYSTEM_TIME, DROP COLUMN rs, DROP COLUMN re; INSERT INTO m.v VALUES (6, 60);");
            await Kit.WaitUntil(() => Kit.Lines(Sink).Count == 6, "row 6");
            Assert.StartsWith("@", Kit.Events(Sink)[^1].After!.First().Key);
            Assert.Equal(2, p.Log.Count(EventIds.SchemaTableUncertain)); // one per episode, not per event
            db.Sql("DROP TABLE m.v; CREATE TABLE m.v (id INT PRIMARY KEY, y VARCHAR(5)); INSERT INTO m.v VALUES (7, 'y7');");
            await Kit.WaitUntil(() => Kit.Lines(Sink).Count == 7, "row 7");
            Assert.Equal(["id", "y"], Kit.Events(Sink)[^1].After!.Select(v => v.Key));
            Assert.Equal(0, p.Runner.UncertainTables);
        }
        finally
        {
            await noise2.CancelAsync();
            await noiseTask2;
        }
    }
}
