using Microsoft.Extensions.Logging;
using PluginHost.Pipelines;
using PluginHost.Sdk;

namespace PluginHost.Plugins;

/// <summary>
/// What a retired plugin version waits for (<see cref="PluginStatus.Retiring"/>), and the collections that free it.
/// A context whose last user is gone is freed only by garbage collections (a few: its objects, then its code); an idle
/// host may not collect for many minutes, so once a retired version waits for nothing else a short, bounded series of
/// collections is run (at 0.1, 0.25, 0.5, 1, 2, 4 and 8 s), stopping as soon as nothing waits for the collector.
/// </summary>
public sealed partial class PluginManager
{
    internal const string WaitingForCollector = "waiting for the garbage collector to free its unloaded code";
    private static readonly int[] NudgeDelaysMs = [100, 250, 500, 1000, 2000, 4000, 8000];
    private int _nudgeRequests;
    private int _nudging;

    /// <inheritdoc />
    public void Released() => NudgeCollector();

    /// <summary>The retired versions of <paramref name="name"/> not collected yet, with what each waits for (under <c>_stateLock</c>).</summary>
    private IReadOnlyList<PendingUnload>? RetiringOf(string name)
    {
        List<PendingUnload>? list = null;
        List<(string Pipeline, ISink Sink)>? sinks = null;
        foreach (var r in _retired)
        {
            if (r.Name != name || r.Context is null && !r.Weak.IsAlive) continue;
            (list ??= []).Add(new PendingUnload(r.Generation, r.Version, WaitingFor(r, ref sinks)));
        }
        return list;
    }

    private string WaitingFor(Retired r, ref List<(string Pipeline, ISink Sink)>? sinks)
    {
        var collector = r.Collections < NudgeDelaysMs.Length ? WaitingForCollector
            : $"still referenced after {r.Collections} collections since its last user went: something outside the host's bookkeeping holds its code";
        if (r.Context is not { } context) return collector; // Unload() was called
        sinks ??= SinkUsers();
        var users = sinks.Where(s => ContextOf(s.Sink) == context).Select(s => s.Pipeline).Distinct().ToList();
        if (users.Count > 0)
            return $"waiting for pipeline(s) {string.Join(", ", users)} to switch to the new version's sink at their next transaction boundary";
        if (r.Helpers?.Target is HelperAssembly helper)
        {
            foreach (var service in _pipelines?.Invoke()?.Pipelines ?? [])
                if (service.Scripts?.VersionsUsing(helper) is [var version, ..])
                    return $"waiting for transform version {version} of pipeline {service.Definition.Name} to retire (it calls this version's helpers)";
        }
        return collector;
    }

    /// <summary>Every sink a pipeline holds (live, pending or being disposed), with the pipeline's name.</summary>
    private List<(string Pipeline, ISink Sink)> SinkUsers()
    {
        var sinks = new List<(string, ISink)>();
        foreach (var service in _pipelines?.Invoke()?.Pipelines ?? [])
        {
            if (service.Runner is not { } runner) continue;
            if (service.ExecuteTask is { IsCompleted: false }) sinks.Add((service.Definition.Name, runner.Sink));
            if (_swappers.TryGetValue(runner, out var swapper)) sinks.AddRange(swapper.PendingSinks().Select(s => (service.Definition.Name, s)));
        }
        return sinks;
    }

    /// <summary>True when a retired version waits for nothing but the collector; counts the collection about to run for each.</summary>
    private bool AnyWaitsForCollector()
    {
        lock (_stateLock)
        {
            List<(string Pipeline, ISink Sink)>? sinks = null;
            var any = false;
            foreach (var r in _retired)
                if ((r.Context != null || r.Weak.IsAlive) && WaitingFor(r, ref sinks) == WaitingForCollector)
                {
                    r.Collections++;
                    any = true;
                }
            return any;
        }
    }

    /// <summary>Runs the bounded series of collections (again from the start when asked while it runs).</summary>
    private void NudgeCollector()
    {
        Interlocked.Increment(ref _nudgeRequests);
        if (_disposed || Interlocked.Exchange(ref _nudging, 1) != 0) return;
        _ = Task.Run(NudgeLoopAsync);
    }

    private async Task NudgeLoopAsync()
    {
        while (true)
        {
            var seen = Volatile.Read(ref _nudgeRequests);
            try
            {
                for (var i = 0; i < NudgeDelaysMs.Length; i++)
                {
                    await Task.Delay(NudgeDelaysMs[i]).ConfigureAwait(false);
                    if (_disposed) break;
                    if (Volatile.Read(ref _nudgeRequests) != seen)
                    {
                        seen = Volatile.Read(ref _nudgeRequests);
                        i = -1; // something was released meanwhile: start the series again
                        continue;
                    }
                    if (!AnyWaitsForCollector()) break;
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    GC.Collect();
                    TryUnloadRetired();
                    seen = Volatile.Read(ref _nudgeRequests); // (its own request when it unloaded something: this series goes on anyway)
                }
            }
            catch (Exception e)
            {
                _logger.LogDebug("collecting retired plugin versions failed: {Error}", e.Message);
            }
            Volatile.Write(ref _nudging, 0);
            if (_disposed || Volatile.Read(ref _nudgeRequests) == seen || Interlocked.Exchange(ref _nudging, 1) != 0) return;
        }
    }
}
