using System.Diagnostics;
using System.Net;
using System.Text.Json;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Api;

/// <summary>Events per table (in, out) of a pipeline: in GET /pipelines/{name} and in /metrics (pluginhost_table_events_total, checked by promtool).</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TableCountsApiTests(MariaDbServer db, ITestOutputHelper output)
{
    [Fact]
    public async Task A_pipeline_counts_events_in_and_out_per_table()
    {
        var database = "api_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {database}; USE {database}; CREATE TABLE orders (id INT PRIMARY KEY, v INT); CREATE TABLE items (id INT PRIMARY KEY, v INT);");
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token,
            ApiTestHost.PipelineYaml(db, "tabled", database, extra: "    transform: drop-deletes.csx"));
        // Deletes are read (in) but dropped by the transform (not out).
        File.WriteAllText(Path.Combine(dir, "drop-deletes.csx"), "ChangeEvent? Transform(ChangeEvent e) => e.Op == ChangeOperation.Delete ? null : e;\n");
        await using var host = await ApiTestHost.StartAsync(dir);
        await host.WaitForStateAsync("tabled", "running", seconds: 60);
        var before = (await host.PipelineAsync("tabled")).GetProperty("tables");
        Assert.Equal(0, before.GetArrayLength());

        db.Sql("INSERT INTO orders VALUES (1,1),(2,2),(3,3),(4,4),(5,5); INSERT INTO items VALUES (1,1),(2,2),(3,3); DELETE FROM items WHERE id = 3;", database);
        await host.WaitForOutputAsync("tabled", 8);
        var p = await host.WaitForAsync("tabled", x => x.GetProperty("events").GetProperty("in").GetInt64() == 9, "9 rows read");
        output.WriteLine(p.GetProperty("tables").ToString());
        var tables = p.GetProperty("tables").EnumerateArray().ToDictionary(t => t.GetProperty("table").GetString()!,
            t => (In: t.GetProperty("in").GetInt64(), Out: t.GetProperty("out").GetInt64()));
        Assert.Equal(2, tables.Count);
        Assert.Equal((5L, 5L), tables[$"{database}.orders"]);
        Assert.Equal((4L, 3L), tables[$"{database}.items"]);
        // The list of pipelines carries them too.
        var (status, list, _) = await host.GetAsync("pipelines");
        Assert.Equal(HttpStatusCode.OK, status);
        var listed = list.EnumerateArray().Single(x => x.GetProperty("name").GetString() == "tabled");
        Assert.Equal(2, listed.GetProperty("tables").GetArrayLength());

        var text = await (await host.Http.GetAsync("metrics")).Content.ReadAsStringAsync();
        Assert.Contains("# TYPE pluginhost_table_events_total counter", text);
        Assert.Contains($"pluginhost_table_events_total{{direction=\"in\",pipeline=\"tabled\",table=\"{database}.items\"}} 4", text);
        Assert.Contains($"pluginhost_table_events_total{{direction=\"out\",pipeline=\"tabled\",table=\"{database}.items\"}} 3", text);
        Assert.Contains($"pluginhost_table_events_total{{direction=\"in\",pipeline=\"tabled\",table=\"{database}.orders\"}} 5", text);
        Assert.Contains($"pluginhost_table_events_total{{direction=\"out\",pipeline=\"tabled\",table=\"{database}.orders\"}} 5", text);
        var (code, promtool) = await PromtoolAsync(text);
        Assert.True(code == 0, $"promtool check metrics: exit {code}\n{promtool}");

        // The dashboard's 15 minutes of events/s and lag start from GET /history (a point a second: wait for the first).
        JsonElement points;
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var (hs, history, _) = await host.GetAsync("history");
            Assert.Equal(HttpStatusCode.OK, hs);
            points = history.EnumerateArray().Single(x => x.GetProperty("name").GetString() == "tabled").GetProperty("points");
            if (points.GetArrayLength() >= 1) break;
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(10), "no point in GET /history after 10 s");
            await Task.Delay(100);
        }
        var last = points[points.GetArrayLength() - 1];
        Assert.InRange(last.GetProperty("t").GetInt64(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 5, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.True(last.GetProperty("events_per_second").GetDouble() >= 0);
        Assert.True(last.GetProperty("lag_seconds").GetDouble() >= 0);
    }

    private static async Task<(int Code, string Output)> PromtoolAsync(string input)
    {
        var psi = new ProcessStartInfo("promtool", "check metrics") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        await p.StandardInput.WriteAsync(input);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }
}
