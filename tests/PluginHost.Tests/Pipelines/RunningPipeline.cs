using Microsoft.Extensions.Logging;
using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Scripting;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Pipelines;

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
        Runner = new PipelineRunner(definition, sink, store, new RecordingLogger(output, definition.Name, LogLevel.Trace), Status, transform)
        {
            RetryDelay = TimeSpan.FromMilliseconds(50),
            MaxRetryDelay = TimeSpan.FromMilliseconds(400),
            DrainTimeout = TimeSpan.FromSeconds(20),
            SnapshotSource = ct => ChunkReaderSource.OpenAsync(definition.Connection, definition.Snapshot.Consistency, ct),
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
