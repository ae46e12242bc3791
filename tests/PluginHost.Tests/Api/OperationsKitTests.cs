using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Api;

/// <summary>
/// The operations kit in docs/deploy: the Prometheus alert rules (promtool check and unit tests), the Grafana dashboard
/// (every query valid PromQL and naming only metrics a running host exports), the health probes the systemd unit and
/// the Dockerfile call (real endpoints answering 200), and the systemd units (systemd-analyze verify).
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed partial class OperationsKitTests(MariaDbServer db, ITestOutputHelper output)
{
    private static string Deploy(string name) => Path.Combine(RepoPaths.RepoRoot, "docs", "deploy", name);

    [Fact]
    public async Task The_alert_rules_pass_promtool_check_and_fire_as_their_unit_tests_expect()
    {
        var check = await RunAsync("promtool", "check", "rules", Deploy("prometheus-alerts.yml"));
        Assert.True(check.Code == 0, check.Output);
        Assert.Contains("SUCCESS: 4 rules found", check.Output);
        var test = await RunAsync("promtool", "test", "rules", Deploy("prometheus-alerts.test.yml"));
        Assert.True(test.Code == 0, test.Output);
        Assert.Contains("SUCCESS", test.Output);
    }

    [Fact]
    public async Task Every_dashboard_query_is_valid_PromQL()
    {
        // Each query as a recording rule, Grafana's variables replaced by what they stand for: promtool parses them all.
        var rules = string.Join('\n', DashboardQueries().Select((q, i) => $"      - record: dashboard:query_{i}\n        expr: {JsonSerializer.Serialize(Concrete(q))}"));
        var file = Path.Combine(TestTemp.CreateSubdirectory("grafana-promql").FullName, "queries.yml");
        await File.WriteAllTextAsync(file, $"groups:\n  - name: dashboard\n    rules:\n{rules}\n");
        var check = await RunAsync("promtool", "check", "rules", file);
        Assert.True(check.Code == 0, check.Output);
    }

    [Fact]
    public async Task Every_metric_the_dashboard_and_the_alerts_name_is_exported_by_a_running_host_whose_probes_answer()
    {
        // A host that has done everything the panels show: streamed, snapshotted a table, compiled a transform, reloaded.
        var database = "opskit_" + Guid.NewGuid().ToString("N")[..8];
        db.Sql($"CREATE DATABASE {database}; USE {database}; CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20)); " +
               "INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_50;");
        var dir = ApiTestHost.WriteConfig(null, MariaDbServer.FreePort(), ApiTestHost.Token,
            ApiTestHost.PipelineYaml(db, "kit", database, extra: "    transform: kit.csx\n    snapshot: { mode: initial, chunk_size: 10 }"));
        await File.WriteAllTextAsync(Path.Combine(dir, "kit.csx"), "ChangeEvent Transform(ChangeEvent e) => e;\n");
        await using var host = await ApiTestHost.StartAsync(dir);
        await host.WaitForAsync("kit", p => p.GetProperty("snapshot") is { ValueKind: JsonValueKind.Object } s && !s.GetProperty("active").GetBoolean(),
            "the snapshot to end", seconds: 90);
        db.Sql("INSERT INTO t VALUES (100, 'live');", database);
        await host.WaitForOutputAsync("kit", 51, seconds: 60);
        var (status, body, _) = await host.PostAsync("reload");
        Assert.True(status == HttpStatusCode.OK, $"POST /reload: {status} {body}");

        var metrics = await (await host.Http.GetAsync("metrics")).Content.ReadAsStringAsync();
        var exported = metrics.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => SampleName().Match(l).Value).ToHashSet();
        output.WriteLine(string.Join(", ", exported.Order()));
        var alerts = await File.ReadAllTextAsync(Deploy("prometheus-alerts.yml"));
        var named = DashboardQueries().Select(q => ("grafana-dashboard.json", q))
            .Concat(Regex.Matches(alerts, @"^\s*expr: (.+)$", RegexOptions.Multiline).Select(m => ("prometheus-alerts.yml", m.Groups[1].Value)))
            .SelectMany(x => MetricName().Matches(x.Item2).Select(m => (File: x.Item1, Metric: m.Value))).ToList();
        Assert.Contains(named, n => n.Metric == "pluginhost_sink_duration_seconds_bucket");
        Assert.Contains(named, n => n.Metric == "pluginhost_snapshot_rows_estimated");
        Assert.Contains(named, n => n.Metric == "pluginhost_table_events_total"); // the per-table counts
        var missing = named.Where(n => !exported.Contains(n.Metric)).Distinct().ToList();
        Assert.True(missing.Count == 0, "not exported by the host: " + string.Join(", ", missing.Select(m => $"{m.Metric} ({m.File})")));

        // The probes the systemd unit and the Dockerfile call are the host's, and answer 200 on a running host.
        var probes = new[] { "pluginhost.service", "pluginhost-liveness.service", "Dockerfile" }
            .SelectMany(f => ProbePath().Matches(File.ReadAllText(Deploy(f))).Select(m => m.Value)).Distinct().ToList();
        Assert.Equal(["/health/live", "/health/ready"], probes.Order());
        foreach (var probe in probes)
            Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync(probe.TrimStart('/'))).StatusCode);
    }

    [Fact]
    public async Task The_systemd_units_pass_systemd_analyze_verify()
    {
        // The unit names the installed binary (/opt/pluginhost/pluginhost); verify checks that it exists: point it at the built one.
        var dir = TestTemp.CreateSubdirectory("systemd-units").FullName;
        var built = Path.Combine(AppContext.BaseDirectory, "pluginhost");
        Assert.True(File.Exists(built), $"{built}: the host's executable is not beside the tests");
        var unit = await File.ReadAllTextAsync(Deploy("pluginhost.service"));
        Assert.Contains("ExecStart=/opt/pluginhost/pluginhost run --config /etc/pluginhost/pluginhost.yaml", unit);
        await File.WriteAllTextAsync(Path.Combine(dir, "pluginhost.service"), unit.Replace("/opt/pluginhost/pluginhost", built));
        foreach (var name in new[] { "pluginhost-liveness.service", "pluginhost-liveness.timer" })
            File.Copy(Deploy(name), Path.Combine(dir, name));
        var verify = await RunAsync("systemd-analyze", "verify", Path.Combine(dir, "pluginhost.service"),
            Path.Combine(dir, "pluginhost-liveness.service"), Path.Combine(dir, "pluginhost-liveness.timer"));
        Assert.True(verify.Code == 0 && verify.Output.Trim().Length == 0, $"exit {verify.Code}: {verify.Output}");
    }

    /// <summary>Every query of the Grafana dashboard: panel targets and template variables.</summary>
    private static List<string> DashboardQueries()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Deploy("grafana-dashboard.json")));
        var root = doc.RootElement;
        var queries = root.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        foreach (var v in root.GetProperty("templating").GetProperty("list").EnumerateArray())
            if (v.TryGetProperty("definition", out var d) && LabelValues().Match(d.GetString()!) is { Success: true } m) queries.Add(m.Groups["metric"].Value);
        Assert.True(queries.Count >= 15, $"only {queries.Count} queries in the dashboard");
        return queries;
    }

    /// <summary>A Grafana query with its variables replaced by values Prometheus accepts.</summary>
    private static string Concrete(string query) =>
        query.Replace("$__rate_interval", "2m").Replace("$__range", "1h").Replace("$__interval", "1m").Replace("$pipeline", ".*");

    private static async Task<(int Code, string Output)> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex SampleName();

    [GeneratedRegex(@"\bpluginhost_[a-z0-9_]+")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"label_values\((?<metric>[a-z_]+),")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"/health/[a-z]+")]
    private static partial Regex ProbePath();
}
