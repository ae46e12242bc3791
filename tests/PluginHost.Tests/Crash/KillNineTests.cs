using System.Diagnostics;
using System.Text.Json;
using PluginHost.Binlog.Protocol;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Crash;

/// <summary>
/// The delivery guarantee under the worst failure: the host process is killed with SIGKILL (twice) while a stream of
/// 100,000+ row changes flows, then restarted. Every committed change must reach the sink, per-row order must hold,
/// and duplicates must stay within what was in flight (written but not yet checkpointed) at each kill.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class KillNineTests(MariaDbServer db, ITestOutputHelper output)
{
    private const int Rows = 20_000;
    private const int BatchSize = 1000;

    [Fact]
    public async Task Kill_minus_nine_during_a_stream_loses_nothing_keeps_row_order_and_bounds_duplicates()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-crash-").FullName;
        db.Sql("DROP DATABASE IF EXISTS crash; CREATE DATABASE crash; CREATE TABLE crash.items (id INT PRIMARY KEY, version INT NOT NULL, payload VARCHAR(64));");
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');
        var config = Path.Combine(dir, "pluginhost.yaml");
        var outFile = Path.Combine(dir, "out.jsonl");
        File.WriteAllText(config, $$"""
            state_dir: state
            server: { enabled: false }
            pipelines:
              - name: crash
                source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: 4242, start: { file: {{start[0]}}, pos: {{start[1].Trim()}} } }
                filter: { include: ["crash.*"] }
                batch_size: {{BatchSize}}
                sink: { type: file, path: out.jsonl }
            """);
        var log = Path.Combine(dir, "host.log");

        // The writer: 20,000 inserts, 80,000 updates (version +1), 5,000 deletes, in 1,050 transactions of 100 rows,
        // interleaved so kills land in a mixed stream.
        var expected = new Dictionary<int, List<string>>(); // id → ordered changes "i0", "u1", "u2", …, "d"
        var writer = Task.Run(async () =>
        {
            await using var c = await MySqlProtocolConnection.OpenAsync(new ConnectionOptions { Host = db.Host, Port = db.Port, User = "root", SslMode = SslMode.None });
            var versions = new int[Rows + 1];
            var inserted = 0;
            var tx = 0;
            var rnd = new Random(7);
            while (inserted < Rows || tx < 1050)
            {
                tx++;
                string sql;
                if (inserted < Rows && (tx % 5 == 1 || inserted < 500))
                {
                    var values = string.Join(",", Enumerable.Range(inserted + 1, 100).Select(i => $"({i},0,'row {i}')"));
                    sql = $"INSERT INTO crash.items VALUES {values}";
                    lock (expected) for (var i = inserted + 1; i <= inserted + 100; i++) expected[i] = ["i0"];
                    inserted += 100;
                }
                else if (tx > 1000)
                {
                    var from = (tx - 1001) * 100 + 1;
                    sql = $"DELETE FROM crash.items WHERE id BETWEEN {from} AND {from + 99}";
                    lock (expected) for (var i = from; i < from + 100; i++) expected[i].Add("d");
                }
                else
                {
                    var from = 1 + rnd.Next(Math.Max(1, inserted - 99));
                    sql = $"UPDATE crash.items SET version = version + 1 WHERE id BETWEEN {from} AND {from + 99}";
                    lock (expected) for (var i = from; i < from + 100; i++) expected[i].Add("u" + ++versions[i]);
                }
                await c.ExecuteAsync(sql);
                if (tx % 10 == 0) await Task.Delay(60);
            }
            return tx;
        });

        var kills = 0;
        var host = HostProcess.Start(log, "run", "--config", config);
        try
        {
            await Task.Delay(2500);
            Assert.False(writer.IsCompleted, "the first kill must land while changes are still being written");
            host.KillHard();
            kills++;
            host.Dispose();
            host = HostProcess.Start(log, "run", "--config", config);
            await Task.Delay(2500);
            Assert.False(writer.IsCompleted, "the second kill must land while changes are still being written");
            host.KillHard();
            kills++;
            host.Dispose();
            host = HostProcess.Start(log, "run", "--config", config);
            var transactions = await writer;
            var total = expected.Values.Sum(v => v.Count);
            output.WriteLine($"writer: {transactions} transactions, {total} row changes");
            Assert.True(total >= 100_000, $"only {total} changes written");

            // Wait until everything arrived (or time out), then stop gracefully: the final checkpoint is written.
            var sw = Stopwatch.StartNew();
            while (CountDistinct(outFile) < total && sw.Elapsed < TimeSpan.FromSeconds(120)) await Task.Delay(250);
            Assert.True(host.Terminate(TimeSpan.FromSeconds(30)), "host did not stop on SIGTERM");
            Assert.True(File.Exists(Path.Combine(dir, "state", "crash.checkpoint.json")), "no final checkpoint");

            // Verify: no loss, row order, duplicate bound.
            var seen = new HashSet<string>();
            var order = new Dictionary<int, List<string>>();
            var lines = 0;
            var duplicates = 0;
            foreach (var line in File.ReadLines(outFile))
            {
                lines++;
                using var doc = JsonDocument.Parse(line); // every line must be one whole event (torn lines repaired)
                var root = doc.RootElement;
                var op = root.GetProperty("op").GetString();
                var image = op == "delete" ? root.GetProperty("before") : root.GetProperty("after");
                var id = image.GetProperty("id").GetInt32();
                var change = op switch { "insert" => "i0", "update" => "u" + image.GetProperty("version").GetInt32(), _ => "d" };
                if (!seen.Add(id + ":" + change)) { duplicates++; continue; }
                if (!order.TryGetValue(id, out var list)) order[id] = list = [];
                list.Add(change);
            }
            output.WriteLine($"sink: {lines} lines, {duplicates} duplicates after {kills} kills; log:\n{Tail(host.ReadLog(), 30)}");
            foreach (var (id, changes) in expected)
            {
                Assert.True(order.TryGetValue(id, out var got), $"row {id}: nothing arrived");
                Assert.Equal(changes, got); // every change, in commit order (first deliveries)
            }
            Assert.InRange(duplicates, 0, kills * 2 * (BatchSize + 1024)); // in flight: the batch being checkpointed and the one after it
        }
        finally
        {
            host.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static int CountDistinct(string path)
    {
        if (!File.Exists(path)) return 0;
        var set = new HashSet<string>();
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(f);
        while (r.ReadLine() is { } line)
        {
            if (!line.EndsWith('}')) continue;
            var op = line.AsSpan(7, 6).ToString();
            var idAt = line.IndexOf(op == "delete" ? "\"before\":{\"id\":" : "\"after\":{\"id\":", StringComparison.Ordinal);
            if (idAt < 0) continue;
            var idStart = line.IndexOf("\"id\":", idAt, StringComparison.Ordinal) + 5;
            var idEnd = line.IndexOf(',', idStart);
            var verAt = line.IndexOf("\"version\":", idStart, StringComparison.Ordinal) + 10;
            var verEnd = line.IndexOf(',', verAt);
            set.Add(op + line[idStart..idEnd] + ":" + (op == "delete" ? "" : line[verAt..verEnd]));
        }
        return set.Count;
    }

    private static string Tail(string s, int lines) => string.Join('\n', s.Split('\n').TakeLast(lines));
}
