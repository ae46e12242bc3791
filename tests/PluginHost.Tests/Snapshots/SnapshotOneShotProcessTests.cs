using System.Diagnostics;
using System.Text.Json;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Snapshots;

/// <summary>
/// <c>pluginhost run</c> with only <c>initial_only</c> pipelines and no API is a one-shot job: once every pipeline is
/// completed the process exits 0 (and a restart, already completed, exits again at once, writing nothing). With a
/// pipeline that streams on, the process keeps running.
/// </summary>
[Collection(SecondMariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SnapshotOneShotProcessTests(MariaDbServer db, ITestOutputHelper output)
{
    private const string Database = "oneshot_snap";
    private const int Rows = 3000;

    [Fact]
    public void A_host_whose_only_pipeline_is_initial_only_exits_0_once_it_is_completed()
    {
        var dir = Prepare();
        var config = Config(dir, """
              - name: once
                source: { host: HOST, port: PORT, user: USER, password: "", server_id: 4351, ssl: none }
                filter: { include: ["oneshot_snap.*"] }
                snapshot: { mode: initial_only, chunk_size: 500 }
                sink: { type: file, path: once.jsonl }
            """);
        var log = Path.Combine(dir, "host.log");
        using (var host = HostProcess.Start(log, "run", "--config", config))
        {
            var exited = host.WaitForExit(TimeSpan.FromSeconds(120));
            output.WriteLine(host.ReadLog());
            Assert.True(exited, "the host did not exit after its only (initial_only) pipeline completed");
            Assert.Equal(0, host.ExitCode);
            Assert.Contains("every pipeline completed (1) and no API is served: the process exits", host.ReadLog());
        }
        var outFile = Path.Combine(dir, "once.jsonl");
        Assert.Equal(Rows, ReadIds(outFile).Distinct().Count());
        var checkpoint = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "state", "once.checkpoint.json"))).RootElement;
        Assert.True(checkpoint.GetProperty("snapshot").GetProperty("completed").GetBoolean());

        // Again: completed already, so nothing is read and the process exits at once.
        var lines = File.ReadAllLines(outFile).Length;
        using (var again = HostProcess.Start(log, "run", "--config", config))
        {
            Assert.True(again.WaitForExit(TimeSpan.FromSeconds(60)), "the restarted host did not exit");
            Assert.Equal(0, again.ExitCode);
        }
        Assert.Equal(lines, File.ReadAllLines(outFile).Length);
    }

    [Fact]
    public void A_host_with_a_streaming_pipeline_beside_an_initial_only_one_keeps_running()
    {
        var dir = Prepare();
        var config = Config(dir, """
              - name: once
                source: { host: HOST, port: PORT, user: USER, password: "", server_id: 4352, ssl: none }
                filter: { include: ["oneshot_snap.*"] }
                snapshot: { mode: initial_only, chunk_size: 500 }
                sink: { type: file, path: once.jsonl }
              - name: stream
                source: { host: HOST, port: PORT, user: USER, password: "", server_id: 4353, ssl: none }
                filter: { include: ["oneshot_snap.*"] }
                sink: { type: file, path: stream.jsonl }
            """);
        var log = Path.Combine(dir, "host.log");
        using var host = HostProcess.Start(log, "run", "--config", config);
        var clock = Stopwatch.StartNew();
        while (!host.ReadLog().Contains("pipeline once: initial_only snapshot completed", StringComparison.Ordinal))
        {
            Assert.False(host.HasExited, "the host exited:\n" + host.ReadLog());
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), "the snapshot did not complete:\n" + host.ReadLog());
            Thread.Sleep(100);
        }
        Assert.False(host.WaitForExit(TimeSpan.FromSeconds(3)), "the host exited while a pipeline still streams");
        Assert.True(host.Terminate(TimeSpan.FromSeconds(60)));
        output.WriteLine(host.ReadLog());
        Assert.DoesNotContain("every pipeline completed", host.ReadLog());
    }

    private string Prepare()
    {
        db.Sql($"DROP DATABASE IF EXISTS {Database}; CREATE DATABASE {Database}; CREATE TABLE {Database}.t (id INT PRIMARY KEY, s VARCHAR(40) NOT NULL);");
        db.Sql($"INSERT INTO t SELECT seq, CONCAT('row ', seq) FROM seq_1_to_{Rows};", Database);
        return TestTemp.CreateSubdirectory("pluginhost-oneshot-").FullName;
    }

    private string Config(string dir, string pipelines)
    {
        var path = Path.Combine(dir, "pluginhost.yaml");
        File.WriteAllText(path, "state_dir: state\nserver: { enabled: false }\npipelines:\n" +
                                pipelines.Replace("HOST", db.Host).Replace("PORT", db.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace("USER", db.User));
        return path;
    }

    private static IEnumerable<long> ReadIds(string path) =>
        File.ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("op").GetString() == "read")
            .Select(e => e.GetProperty("after").GetProperty("id").GetInt64()).ToList();
}
