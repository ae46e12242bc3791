using System.Diagnostics;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;

namespace PluginHost.Tests.Binlog.Replication;

/// <summary>
/// Drives a <see cref="BinlogClient"/> stream step by step with a deadline, so a broken client fails the test instead of hanging it.
/// </summary>
internal sealed class Reader : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts;
    private readonly IAsyncEnumerator<BinlogEvent> _events;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public Reader(BinlogClient client, BinlogPosition? resumeFrom = null, TimeSpan? deadline = null)
    {
        Client = client;
        _cts = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(30));
        _events = client.ReadAsync(resumeFrom, _cts.Token).GetAsyncEnumerator(_cts.Token);
    }

    public BinlogClient Client { get; }

    private Task? _watched;

    /// <summary>A task running beside the stream (e.g. the writer): when it fails, the next read fails with its exception.</summary>
    public void Watch(Task task) => _watched = task;

    /// <summary>Every event handed out so far.</summary>
    public List<BinlogEvent> Seen { get; } = new();

    /// <summary>For each event of <see cref="Seen"/>: the binlog file it was read from.</summary>
    public List<string> SeenIn { get; } = new();

    /// <summary>(file, offset) of the events handed out that are read from a file (not heartbeats or artificial ones).</summary>
    public List<(string File, long Position)> FileEvents() => Seen.Select((e, i) => (e, i))
        .Where(x => x.e.Header.NextPosition != 0 && x.e is not HeartbeatEvent)
        .Select(x => (SeenIn[x.i], x.e.Header.Position)).ToList();

    /// <summary>The next event; fails the test when the stream ends or the deadline passes.</summary>
    public async Task<BinlogEvent> NextAsync()
    {
        bool more;
        var previousFile = Client.CurrentFile;
        try
        {
            var move = _events.MoveNextAsync().AsTask();
            if (_watched is { IsCompleted: false } w)
            {
                await Task.WhenAny(move, w);
                if (w.IsFaulted) await w; // the writer failed: report that instead of waiting for the deadline
            }
            more = await move;
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
            throw new TimeoutException($"no event within the deadline ({_clock.Elapsed.TotalSeconds:F1} s, {Seen.Count} events seen; last: {Seen.LastOrDefault()})");
        }
        Assert.True(more, "the stream ended");
        Seen.Add(_events.Current);
        SeenIn.Add(_events.Current is RotateEvent { IsArtificial: false } ? previousFile! : Client.CurrentFile!);
        return _events.Current;
    }

    /// <summary>Reads until <paramref name="stop"/> holds for an event (included); returns the events read by this call.</summary>
    public async Task<List<BinlogEvent>> UntilAsync(Func<BinlogEvent, bool> stop)
    {
        var list = new List<BinlogEvent>();
        while (true)
        {
            var e = await NextAsync();
            list.Add(e);
            if (stop(e)) return list;
        }
    }

    /// <summary>Reads until the stream is connected and positioned: the format description has arrived.</summary>
    public Task<List<BinlogEvent>> ConnectedAsync() => UntilAsync(e => e is FormatDescriptionEvent);

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        try { await _events.DisposeAsync(); } catch (Exception) { }
        await Client.DisposeAsync();
        _cts.Dispose();
    }
}
