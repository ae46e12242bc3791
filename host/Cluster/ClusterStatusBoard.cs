using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using PluginHost.Sdk;

namespace PluginHost.Cluster;

/// <summary>A pipeline's status as its owner last published it.</summary>
/// <param name="Status">The pipeline as <c>GET /pipelines</c> shows it on its owner (JSON).</param>
internal sealed record PipelineReport(string Pipeline, string Node, string? Url, DateTimeOffset At, JsonObject Status);

/// <summary>
/// Cluster-wide state through the compacted topic <c>&lt;name&gt;.status</c>: every node publishes, every
/// <see cref="Interval"/> and when what it runs changes, one record per pipeline it runs (key: the pipeline; value: the
/// node, its advertised URL, the time and the pipeline's status), and reads everyone's. A record older than
/// <see cref="FreshFor"/> is not believed (its node is gone or cut off): that pipeline is shown as unknown. Nothing here
/// waits on another node, so no request does.
/// </summary>
internal sealed class ClusterStatusBoard(IClusterTable table, string nodeId, string? url, TimeSpan sessionTimeout, ILogger logger) : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, PipelineReport> _latest = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _nudge = new(0, 1);
    private Task? _loop;

    /// <summary>How long a published status is believed.</summary>
    public TimeSpan FreshFor { get; } = TimeSpan.FromTicks(Math.Max(Interval.Ticks * 3, sessionTimeout.Ticks));

    /// <summary>The statuses of the pipelines this node runs now (set by the API room, which knows the shape).</summary>
    public Func<IReadOnlyDictionary<string, JsonObject>>? Source { get; set; }

    public string Topic => table.Location;

    public async Task StartAsync(CancellationToken ct)
    {
        foreach (var (key, value) in await table.StartAsync(OnRecord, ct).ConfigureAwait(false)) OnRecord(key, value);
        _loop = Task.Run(PublishLoopAsync, CancellationToken.None);
    }

    /// <summary>Publishes soon (what this node runs changed).</summary>
    public void Nudge()
    {
        try { _nudge.Release(); } catch (SemaphoreFullException) { } catch (ObjectDisposedException) { }
    }

    /// <summary>The freshest believable report of another node running <paramref name="pipeline"/>, or null.</summary>
    public PipelineReport? Find(string pipeline) =>
        _latest.TryGetValue(pipeline, out var r) && r.Node != nodeId && DateTimeOffset.UtcNow - r.At < FreshFor ? r : null;

    private void OnRecord(string key, string? value)
    {
        if (value is null)
        {
            _latest.TryRemove(key, out _);
            return;
        }
        try
        {
            if (JsonNode.Parse(value) is not JsonObject o || o["node"]?.GetValue<string>() is not { } node || o["status"] is not JsonObject status) return;
            var at = o["at"]?.GetValue<DateTimeOffset>() ?? DateTimeOffset.MinValue;
            var report = new PipelineReport(key, node, o["url"]?.GetValue<string>(), at, (JsonObject)status.DeepClone());
            _latest.AddOrUpdate(key, report, (_, old) => old.At > at && old.Node != node && DateTimeOffset.UtcNow - old.At < FreshFor ? old : report);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            // Not a status record of ours: ignored.
        }
    }

    private async Task PublishLoopAsync()
    {
        var failing = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _nudge.WaitAsync(Interval, _stop.Token).ConfigureAwait(false);
                if (Source?.Invoke() is not { Count: > 0 } statuses) continue;
                var at = DateTimeOffset.UtcNow;
                await Task.WhenAll(statuses.Select(kv => table.PutAsync(kv.Key,
                    new JsonObject { ["node"] = nodeId, ["url"] = url, ["at"] = at, ["status"] = kv.Value }.ToJsonString(), _stop.Token))).ConfigureAwait(false);
                failing = false;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                if (!failing) logger.Trouble($"cannot publish this node's pipeline statuses to topic '{table.Location}': {e.Message}");
                failing = true;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop != null) await _loop.ConfigureAwait(false);
        await table.DisposeAsync().ConfigureAwait(false);
    }
}
