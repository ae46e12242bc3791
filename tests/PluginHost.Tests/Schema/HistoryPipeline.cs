using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Tests.Pipelines;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Schema;

/// <summary>
/// A <see cref="PipelineRunner"/> in the background (as <see cref="RunningPipeline"/>), with its schema history in the
/// state directory, its file sink behind a gate (closed: the sink waits, so the reader falls behind), and its log lines
/// counted by event id.
/// </summary>
internal sealed class HistoryPipeline : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;

    public HistoryPipeline(PipelineDefinition definition, string stateDirectory, ITestOutputHelper output, bool gateOpen = true)
    {
        Sink = new GateSink(new FileSink(definition.SinkSettings.GetProperty("path").GetString()!), gateOpen);
        Status = new PipelineStatus(definition.Name);
        Log = new CountingLogger(output, definition.Name);
        Runner = new PipelineRunner(definition, Sink, new FileCheckpointStore(stateDirectory), Log, Status,
            configureClient: o => o with { ReconnectDelay = TimeSpan.FromMilliseconds(50), MaxReconnectDelay = TimeSpan.FromMilliseconds(500) })
        {
            RetryDelay = TimeSpan.FromMilliseconds(50),
            MaxRetryDelay = TimeSpan.FromMilliseconds(400),
            DrainTimeout = TimeSpan.FromSeconds(20),
            StateDirectory = stateDirectory,
        };
        _run = Task.Run(() => Runner.RunAsync(_stop.Token));
    }

    public GateSink Sink { get; }
    public PipelineStatus Status { get; }
    public PipelineRunner Runner { get; }
    public CountingLogger Log { get; }

    public async Task WaitRunning()
    {
        await Kit.WaitUntil(() => Status.State == PipelineState.Running || _run.IsCompleted, "the pipeline to run");
        if (_run.IsCompleted) await _run;
    }

    public async Task StopAsync()
    {
        Sink.Open();
        _stop.Cancel();
        await _run.WaitAsync(TimeSpan.FromSeconds(30));
    }

    public async ValueTask DisposeAsync()
    {
        Sink.Open();
        _stop.Cancel();
        try { await _run.WaitAsync(TimeSpan.FromSeconds(30)); } catch (Exception) { }
        await Runner.Sink.DisposeAsync();
        _stop.Dispose();
    }
}

/// <summary>A sink that holds every write until <see cref="Open"/> (then passes them on).</summary>
internal sealed class GateSink(ISink inner, bool open) : ISink
{
    private readonly TaskCompletionSource _gate = open ? CompletedGate() : new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static TaskCompletionSource CompletedGate()
    {
        var tcs = new TaskCompletionSource();
        tcs.SetResult();
        return tcs;
    }

    public void Open() => _gate.TrySetResult();

    public async ValueTask WriteAsync(IReadOnlyList<ChangeEvent> batch, CancellationToken cancellationToken)
    {
        await _gate.Task.WaitAsync(cancellationToken);
        await inner.WriteAsync(batch, cancellationToken);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

/// <summary>Writes log lines to the test output and counts them by event id.</summary>
internal sealed class CountingLogger(ITestOutputHelper output, string name) : ILogger
{
    private readonly ConcurrentDictionary<int, int> _counts = new();

    public int Count(int eventId) => _counts.GetValueOrDefault(eventId);

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _counts.AddOrUpdate(eventId.Id, 1, (_, n) => n + 1);
        try { output.WriteLine($"{DateTime.Now:HH:mm:ss.fff} [{name}] {logLevel} {eventId.Id}: {formatter(state, exception)}"); }
        catch (InvalidOperationException) { } // the test has finished
    }
}
