using System.Text.Json.Nodes;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Plugins.Webhook;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Webhook;

/// <summary>
/// A pipeline from a real MariaDB to the webhook sink, run in-process: the definition is built with
/// <see cref="ConfigLoader.Parse"/> from a YAML configuration, the sink by <see cref="WebhookSinkFactory"/> (as the
/// plugin loader would), and the whole thing by <see cref="PipelineRunner"/> with a file checkpoint store.
/// </summary>
internal sealed class WebhookPipeline : IAsyncDisposable
{
    private static int _serverId = 7100;
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;

    private WebhookPipeline(string dir, HostConfig config, WebhookSink sink, PipelineRunner runner, RecordingLogger log)
    {
        Directory = dir;
        Config = config;
        Sink = sink;
        Runner = runner;
        Log = log;
    }

    public string Directory { get; }
    public HostConfig Config { get; }
    public WebhookSink Sink { get; }
    public PipelineRunner Runner { get; }
    public RecordingLogger Log { get; }
    public PipelineStatus Status => Runner.Status;

    /// <summary>The binlog position now, as a <c>start:</c> block: the pipeline sees only what the test writes next.</summary>
    public static string StartHere(MariaDbServer db)
    {
        var f = db.Sql("SHOW MASTER STATUS;").Split('\n')[0].Split('\t');
        return $"{{ file: {f[0]}, pos: {f[1].Trim()} }}";
    }

    /// <summary>A pluginhost.yaml with one pipeline reading <paramref name="database"/> into the given sink block.</summary>
    public static string ConfigYaml(MariaDbServer db, string name, string database, JsonObject sink, string start, string stateDir = "state") => $$"""
        state_dir: {{stateDir}}
        server: { enabled: false }
        pipelines:
          - name: {{name}}
            source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: {{Interlocked.Increment(ref _serverId)}}, ssl: none, heartbeat: 1s, start: {{start}} }
            filter: { include: ["{{database}}.*"] }
            batch_size: 1000
            sink: {{sink.ToJsonString()}}
        """;

    public static async Task<WebhookPipeline> StartAsync(MariaDbServer db, string name, string database, JsonObject sink, ITestOutputHelper output)
    {
        var dir = TestTemp.CreateSubdirectory($"pluginhost-webhook-{name}-").FullName;
        var yaml = ConfigYaml(db, name, database, sink, StartHere(db));
        var path = Path.Combine(dir, "pluginhost.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return Start(ConfigLoader.Parse(yaml, path, new Dictionary<string, string>()), dir, output);
    }

    public static WebhookPipeline Start(HostConfig config, string dir, ITestOutputHelper output)
    {
        var log = new RecordingLogger(output);
        var def = config.Pipelines[0];
        var sink = (WebhookSink)new WebhookSinkFactory().Create(new SinkContext(def.Name, def.SinkSettings, log, config.BaseDirectory));
        var runner = new PipelineRunner(def, sink, new FileCheckpointStore(config.StateDirectory), log, new PipelineStatus(def.Name),
            configureClient: o => o with { ReconnectDelay = TimeSpan.FromMilliseconds(50), MaxReconnectDelay = TimeSpan.FromMilliseconds(500) })
        {
            DrainTimeout = TimeSpan.FromSeconds(5),
        };
        var p = new WebhookPipeline(dir, config, sink, runner, log);
        p._run = Task.Run(() => runner.RunAsync(p._stop.Token));
        return p;
    }

    /// <summary>Waits until the pipeline runs (connected to the server).</summary>
    public Task RunningAsync(TimeSpan? timeout = null) =>
        Wait.UntilAsync(() => Status.State == PipelineState.Running, timeout ?? TimeSpan.FromSeconds(20), () => $"pipeline state {Status.State} {Status.LastError}");

    /// <summary>Waits until the checkpoint has passed every transaction written so far (everything delivered or dead-lettered).</summary>
    public async Task CaughtUpAsync(MariaDbServer db, TimeSpan timeout)
    {
        var f = db.Sql("SHOW MASTER STATUS;").Split('\n')[0].Split('\t');
        var file = f[0];
        var pos = long.Parse(f[1].Trim());
        await Wait.UntilAsync(() => Status.Checkpoint is { } c && (string.CompareOrdinal(c.File, file) > 0 || c.File == file && c.Position >= pos), timeout,
            () => $"checkpoint {Status.Checkpoint} (want {file}:{pos}); sink pending {Sink.Pending}; {Sink.Stats}; state {Status.State} {Status.LastError}");
    }

    public async Task StopAsync()
    {
        _stop.Cancel();
        if (_run != null)
        {
            try { await _run; } catch (OperationCanceledException) { }
        }
        await Sink.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { }
    }
}
