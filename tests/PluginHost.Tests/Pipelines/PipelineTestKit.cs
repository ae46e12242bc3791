using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Scripting;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Pipelines;

/// <summary>Helpers for pipeline tests against the shared MariaDB: config text, a running pipeline, waits, sink and store doubles.</summary>
internal static class Kit
{
    private static int _serverId = 7100;

    /// <summary>A replica server id no other pipeline of this test run uses.</summary>
    public static int NextServerId() => Interlocked.Increment(ref _serverId);

    public static (string File, long Position) MasterStatus(MariaDbServer db)
    {
        var f = db.Sql("SHOW MASTER STATUS;").Split('\n')[0].Split('\t');
        return (f[0], long.Parse(f[1], CultureInfo.InvariantCulture));
    }

    public static string GtidPos(MariaDbServer db) => db.Sql("SELECT @@GLOBAL.gtid_binlog_pos;").Trim();

    /// <summary>YAML of one pipeline reading the test server (indented for the <c>pipelines:</c> list).</summary>
    public static string PipelineYaml(MariaDbServer db, string name, string start, string filter, string sinkPath,
        string password = "", string extra = "") => $$"""
          - name: {{name}}
            source: { host: {{db.Host}}, port: {{db.Port}}, user: {{db.User}}, password: "{{password}}", server_id: {{NextServerId()}}, start: {{start}}, ssl: none, heartbeat: 1s, connect_timeout: 5s }
            filter: {{filter}}
            sink: { type: file, path: "{{sinkPath}}" }
        {{extra}}
        """;

    public static string FileStart((string File, long Position) p) => $"{{ file: {p.File}, pos: {p.Position} }}";

    public static HostConfig Config(string dir, params string[] pipelines) =>
        ConfigLoader.Parse($"state_dir: {dir}/state\nserver: {{ enabled: false }}\npipelines:\n{string.Join("\n", pipelines)}\n",
            Path.Combine(dir, "pluginhost.yaml"), new Dictionary<string, string>(), new HashSet<string> { "file" });

    /// <summary>The lines of a JSONL file (read while it is being written).</summary>
    public static List<string> Lines(string path)
    {
        if (!File.Exists(path)) return [];
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var text = new StreamReader(f).ReadToEnd();
        // Only whole lines: the sink may be between writing a line and its newline.
        var end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n').ToList();
    }

    public static List<ChangeEvent> Events(string path) => Lines(path).Select(ChangeEventJson.Parse).ToList();

    public static Task WaitUntil(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Poll.UntilAsync(condition, timeout ?? TimeSpan.FromSeconds(20), () => what);

    /// <summary>The row id of an event (after image, or before for deletes).</summary>
    public static long Id(ChangeEvent e) => Convert.ToInt64(e.Current!["id"], CultureInfo.InvariantCulture);

    public static string Describe(ChangeEvent e) => $"{e.Op.ToString().ToLowerInvariant()} {e.Table} {Id(e)}";
}

/// <summary>A <see cref="PipelineRunner"/> running in the background with a file sink into a temp folder.</summary>
internal sealed class RunningPipeline : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;

    public RunningPipeline(PipelineDefinition definition, ISink sink, ICheckpointStore store, ITestOutputHelper output, IEventTransform? transform = null)
    {
        Definition = definition;
        Store = store;
        Status = new PipelineStatus(definition.Name);
        Runner = new PipelineRunner(definition, sink, store, new TestLogger(output, definition.Name), Status, transform,
            configureClient: o => o with { ReconnectDelay = TimeSpan.FromMilliseconds(50), MaxReconnectDelay = TimeSpan.FromMilliseconds(500) })
        {
            RetryDelay = TimeSpan.FromMilliseconds(50),
            MaxRetryDelay = TimeSpan.FromMilliseconds(400),
            DrainTimeout = TimeSpan.FromSeconds(20),
        };
    }

    public PipelineDefinition Definition { get; }
    public ICheckpointStore Store { get; }
    public PipelineStatus Status { get; }
    public PipelineRunner Runner { get; }
    public Task Run => _run ?? throw new InvalidOperationException("not started");

    public RunningPipeline Start()
    {
        _run = Task.Run(() => Runner.RunAsync(_stop.Token));
        return this;
    }

    /// <summary>Waits until the binlog stream is open (the pipeline has read its first event).</summary>
    public async Task WaitRunning()
    {
        await Kit.WaitUntil(() => Status.State == PipelineState.Running || Run.IsCompleted, "the pipeline to run");
        if (Run.IsCompleted) await Run;
    }

    /// <summary>Graceful stop: cancels and waits for the runner to drain and write its final checkpoint.</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        await Run.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_run != null)
            try { await _run.WaitAsync(TimeSpan.FromSeconds(30)); } catch (Exception) { }
        await Runner.Sink.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>A transform version that stamps each event with its version (and passes it on).</summary>
internal sealed class StampTransform(string version) : IEventTransform
{
    public string Version => version;

    public void Apply(ChangeEvent change, List<ChangeEvent> output)
    {
        change.Extra["version"] = version;
        output.Add(change);
    }
}

/// <summary>A sink that wraps another and can be told to throw (or be slow), for retry tests.</summary>
internal sealed class FlakySink(ISink inner) : ISink
{
    public volatile bool FailWrites;
    private int FailNextFlushes;
    public TimeSpan WriteDelay;
    public int WriteCalls, FlushCalls, Failures;
    public readonly System.Collections.Concurrent.ConcurrentQueue<string> Calls = new();

    public async ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref WriteCalls);
        if (WriteDelay > TimeSpan.Zero) await Task.Delay(WriteDelay, cancellationToken);
        Calls.Enqueue($"{DateTime.Now:ss.fff} write [{string.Join(",", batch.Select(e => e.Current?["id"]))}]{(FailWrites ? " FAIL" : "")}");
        if (FailWrites)
        {
            Interlocked.Increment(ref Failures);
            throw new IOException("boom: the sink is down");
        }
        await inner.WriteAsync(batch, cancellationToken);
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref FlushCalls);
        bool fail;
        lock (Calls)
        {
            fail = FailNextFlushes > 0;
            if (fail) FailNextFlushes--;
        }
        Calls.Enqueue($"{DateTime.Now:ss.fff} flush{(fail ? " FAIL" : "")}");
        if (fail)
        {
            Interlocked.Increment(ref Failures);
            throw new IOException("boom: flush refused");
        }
        await inner.FlushAsync(cancellationToken);
    }

    /// <summary>Makes the next <paramref name="count"/> flushes throw.</summary>
    public void FailFlushes(int count)
    {
        lock (Calls) FailNextFlushes = count;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>
/// A checkpoint store that records, at every save, which events the sink's file holds (the sink has flushed by then):
/// <see cref="AssertNeverAhead"/> then proves no checkpoint ever passed an event that was not yet delivered.
/// </summary>
internal sealed class RecordingStore(ICheckpointStore inner, string sinkFile) : ICheckpointStore
{
    public List<(Checkpoint Checkpoint, HashSet<string> Delivered)> Saves { get; } = [];
    public int FailNextSaves;

    public Task<Checkpoint?> LoadAsync(string pipeline, CancellationToken ct) => inner.LoadAsync(pipeline, ct);

    public async Task SaveAsync(string pipeline, Checkpoint checkpoint, CancellationToken ct)
    {
        lock (Saves)
            if (FailNextSaves > 0)
            {
                FailNextSaves--;
                throw new IOException("disk full");
            }
        var delivered = Kit.Lines(sinkFile).Select(Key).ToHashSet();
        lock (Saves) Saves.Add((checkpoint, delivered));
        await inner.SaveAsync(pipeline, checkpoint, ct);
    }

    public Task DeleteAsync(string pipeline, CancellationToken ct) => inner.DeleteAsync(pipeline, ct);

    /// <summary>Identity of a delivered line: its binlog place and row.</summary>
    public static string Key(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        var image = r.GetProperty(r.GetProperty("op").GetString() == "delete" ? "before" : "after");
        return $"{r.GetProperty("file").GetString()}:{r.GetProperty("pos").GetInt64()}:{r.GetProperty("op").GetString()}:{image.GetProperty("id").GetRawText()}";
    }

    /// <summary>Every event before a saved checkpoint (by the final output) was in the sink when that checkpoint was saved.</summary>
    public void AssertNeverAhead(IEnumerable<string> finalLines)
    {
        var all = finalLines.Select(l => (Key: Key(l), Event: ChangeEventJson.Parse(l))).ToList();
        lock (Saves)
        {
            Assert.NotEmpty(Saves);
            foreach (var (cp, delivered) in Saves)
            {
                var before = all.Where(x => string.CompareOrdinal(x.Event.File, cp.File) < 0 ||
                                            x.Event.File == cp.File && x.Event.Position < cp.Position).ToList();
                var missing = before.Where(x => !delivered.Contains(x.Key)).ToList();
                if (missing.Count > 0)
                    Assert.Fail($"checkpoint {cp} was saved before {missing.Count} earlier event(s) were delivered, e.g. {missing[0].Key}");
            }
        }
    }
}

internal sealed class TestLogger(ITestOutputHelper output, string name) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try { output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} [{name}] {logLevel}: {formatter(state, exception)}"); }
        catch (InvalidOperationException) { } // the test has finished
    }
}

internal sealed class TestLoggerFactory(ITestOutputHelper output) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new TestLogger(output, categoryName);
    public void AddProvider(ILoggerProvider provider) { }
    public void Dispose() { }
}
