using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Hosting;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Scripting;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Scripting;

/// <summary>One pipeline with a transform script, reading the test MariaDB into a file sink in a temp directory.</summary>
internal sealed class ScriptPipeline : IAsyncDisposable
{
    private ScriptPipeline(string dir, PipelineService service, RecordingLoggerProvider logs, string scriptFile)
    {
        ScriptPath = Path.Combine(dir, "transforms", scriptFile);
        Directory = dir;
        Service = service;
        Logs = logs;
    }

    public string Directory { get; }
    public PipelineService Service { get; }
    public RecordingLoggerProvider Logs { get; }
    public PipelineStatus Status => Service.Status;
    public string OutputPath => Path.Combine(Directory, "out.jsonl");
    public string ScriptPath { get; }
    public string DeadLetterPath => Path.Combine(Directory, "dead.jsonl");

    /// <summary>
    /// Writes the script to <c>transforms/t.csx</c> (or <paramref name="scriptFile"/>), builds the pipeline from YAML
    /// (its <c>transform:</c> names the script, or is <paramref name="transform"/>) and starts it.
    /// </summary>
    public static async Task<ScriptPipeline> StartAsync(MariaDbServer db, string name, uint serverId, string database, string script,
        IHelperAssemblySource? helpers, string onError = "stop", string extra = "", string scriptFile = "t.csx", string? transform = null)
    {
        var dir = ScriptTestKit.TempDir();
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "transforms"));
        await File.WriteAllTextAsync(Path.Combine(dir, "transforms", scriptFile), script);
        var start = db.Sql("SHOW MASTER STATUS;").Split('\t');
        var yaml = $$"""
            pipelines:
              - name: {{name}}
                source: { host: {{db.Host}}, port: {{db.Port}}, user: root, password: "", server_id: {{serverId}}, ssl: none, heartbeat: 1s, start: { file: {{start[0]}}, pos: {{start[1].Trim()}} } }
                filter: { include: ["{{database}}.*"] }
                transform: {{transform ?? "transforms/" + scriptFile}}
                on_error: {{onError}}
                dead_letter: dead.jsonl
                sink: { type: file, path: out.jsonl, fsync: false }
            {{extra}}
            """;
        var config = ConfigLoader.Parse(yaml, Path.Combine(dir, "pluginhost.yaml"));
        var logs = new RecordingLoggerProvider(minimum: LogLevel.Information);
        var service = new PipelineService(config.Pipelines[0], config, PluginHostServiceCollectionExtensions.CreateSinkCatalog(),
            new FileCheckpointStore(config.StateDirectory), logs) { Helpers = helpers };
        await service.StartAsync(CancellationToken.None);
        return new ScriptPipeline(dir, service, logs, scriptFile);
    }

    /// <summary>The events written so far.</summary>
    public List<JsonObject> Output()
    {
        if (!File.Exists(OutputPath)) return [];
        using var stream = new FileStream(OutputPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var result = new List<JsonObject>();
        while (reader.ReadLine() is { } line)
            if (line.EndsWith('}')) result.Add(JsonNode.Parse(line)!.AsObject());
        return result;
    }

    public int OutputCount()
    {
        if (!File.Exists(OutputPath)) return 0;
        using var stream = new FileStream(OutputPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var count = 0;
        Span<byte> buffer = stackalloc byte[1 << 16];
        int n;
        while ((n = stream.Read(buffer)) > 0) count += buffer[..n].Count((byte)'\n');
        return count;
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails with the pipeline's state and log after <paramref name="seconds"/>.</summary>
    public async Task WaitForAsync(Func<bool> condition, string what, double seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"waited {seconds} s for {what}; state {Status.State}, error {Status.LastError}, in {Status.EventsIn}, out {Status.EventsOut}, " +
                                           $"diagnostics {Status.TransformDiagnostics}\nlog:\n{string.Join("\n", Logs.Lines.TakeLast(30))}");
            await Task.Delay(25);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Service.StopAsync(CancellationToken.None);
        Service.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
