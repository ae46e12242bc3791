using System.Runtime.CompilerServices;
using PluginHost.Plugins;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Plugins;

/// <summary>
/// Unloading really frees memory: old plugin contexts are collected, and both the managed heap and the process's
/// private memory (what the runtime keeps outside the managed heap per load context: loader heaps, JIT-compiled code,
/// assembly images) stay flat over many reloads.
/// </summary>
[Collection(ManagedMemoryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class UnloadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Reloading_a_plugin_200_times_collects_every_old_context_and_memory_stays_flat()
    {
        const int reloads = 200;
        var built = await ThirdPartyPlugins.GetAsync();
        await using var box = new PluginSandbox();
        ThirdPartyPlugins.CopyTo(built.SinkV1, box.PluginFolder("testsink"));
        await box.Manager.LoadAllAsync();
        var helperChanges = 0;
        box.Manager.Changed += () => Interlocked.Increment(ref helperChanges);

        // This class runs after every parallel one, but their native work can outlive them for a while (a librdkafka
        // client's threads shutting down, say): wait until the process's native memory holds still before measuring.
        output.WriteLine($"native memory held still after {await NativeMemoryQuietAsync():F1} s");

        var contexts = new List<WeakReference>(reloads + 1) { box.Manager.WeakContextOf("testsink")! };
        long afterFirst20 = 0, processAfterFirst20 = 0, processHalfway = 0;
        var secondHalfClock = new System.Diagnostics.Stopwatch();
        for (var i = 1; i <= reloads; i++)
        {
            await ReloadAndUseAsync(box);
            contexts.Add(box.Manager.WeakContextOf("testsink")!);
            if (i == 20)
            {
                CollectUntil(() => contexts.Take(contexts.Count - 1).All(w => !w.IsAlive));
                afterFirst20 = ManagedMemory.Settled();
                processAfterFirst20 = PrivateMemory();
            }
            if (i == 110)
            {
                processHalfway = PrivateMemory();
                secondHalfClock.Restart();
            }
        }
        Assert.Equal(reloads, helperChanges);
        Assert.Equal(reloads + 1, box.Manager.Find("testsink")!.Loads);

        var collected = CollectUntil(() => contexts.Take(reloads).All(w => !w.IsAlive));
        var alive = contexts.Take(reloads).Count(w => w.IsAlive);
        Assert.True(collected, $"{alive} of {reloads} old plugin contexts are still alive");
        Assert.True(contexts[^1].IsAlive, "the running version must stay loaded");
        Assert.Equal(0, box.Manager.Find("testsink")!.PendingUnloads);

        var afterAll = ManagedMemory.Settled();
        var processAfterAll = PrivateMemory();
        output.WriteLine($"managed heap after 20 reloads: {afterFirst20 / 1024} KiB; after {reloads}: {afterAll / 1024} KiB");
        output.WriteLine($"process private memory outside the managed heap after 20 reloads: {processAfterFirst20 / 1024} KiB; " +
                         $"after 110: {processHalfway / 1024} KiB; after {reloads}: {processAfterAll / 1024} KiB");
        Assert.True(afterAll - afterFirst20 < 2 * 1024 * 1024,
            $"managed memory grew by {(afterAll - afterFirst20) / 1024} KiB between reload 20 and reload {reloads}");
        // Native memory leaked per reload (an image, a native library or a context's loader heaps never freed: ~100 KiB
        // or more each time) grows both halves, reloads 20-110 and 110-200, by 90 times that; the weak references above
        // catch leaked contexts. The runtime keeps a few MiB of pages after the first unloads (~3 MiB by reload 110, then
        // level), and the process's other work can add a one-off step to one half (a CI run with three tests at once
        // before this class: +15 MiB by reload 110, +1.9 MiB after), so the smaller half is what is bounded.
        // And what the process grows by without reloading, over as long as the second half took: subtracted, so that
        // native work of the process's other parts while this test runs is not counted as this test's growth.
        var halfTook = secondHalfClock.Elapsed;
        await Task.Delay(halfTook);
        var idle = Math.Max(0, PrivateMemory() - processAfterAll);
        output.WriteLine($"the same {halfTook.TotalSeconds:F1} s without reloads: {idle / 1024} KiB");
        var firstHalf = processHalfway - processAfterFirst20 - idle;
        var secondHalf = processAfterAll - processHalfway - idle;
        Assert.True(Math.Min(firstHalf, secondHalf) < HalfGrowthBound,
            $"process memory outside the managed heap grew by {firstHalf / 1024} KiB over reloads 20-110 and {secondHalf / 1024} KiB over reloads 110-{reloads} (each less the {idle / 1024} KiB of as long without reloads)");
    }

    /// <summary>Reloads and uses the new version (creates a sink, writes, calls a helper) without keeping any reference to it.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task ReloadAndUseAsync(PluginSandbox box)
    {
        var status = await box.Manager.ReloadAsync("testsink");
        Assert.Equal(PluginState.Loaded, status!.State);
        await using (var sink = box.CreateSink("testsink", """{"type":"testsink","path":"out.txt"}"""))
        {
            await sink.WriteAsync([new PluginHost.Sdk.ChangeEvent { Table = "t", After = new PluginHost.Sdk.Row { ["id"] = 1 } }], default);
        }
        Assert.Equal("HI!", PluginLoadingTests.Invoke(box.Manager.Current[0].Assembly, "ThirdParty.Sink.SinkHelpers", "tShout", "hi"));
    }

    /// <summary>Waits (at most a minute) until the process's memory outside the managed heap moves less than 256 KiB in half a second.</summary>
    private static async Task<double> NativeMemoryQuietAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var last = PrivateMemory();
        while (clock.Elapsed < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(500);
            var now = PrivateMemory();
            if (Math.Abs(now - last) < 256 * 1024) break;
            last = now;
        }
        return clock.Elapsed.TotalSeconds;
    }

    private const long HalfGrowthBound = 8 * 1024 * 1024; // 90 reloads of ~91 KiB

    /// <summary>
    /// The process's resident private memory outside the managed heap: <c>RssAnon</c> of <c>/proc/self/status</c>
    /// (anonymous pages: the runtime's loader heaps and JIT-compiled code, in-memory assembly images, native
    /// allocations, and the GC's heap) minus what the GC has committed; <see cref="Environment.WorkingSet"/> instead of
    /// <c>RssAnon</c> where there is no such line. Shared library files mapped in are not counted.
    /// </summary>
    private static long PrivateMemory()
    {
        ManagedMemory.Settled();
        var resident = Environment.WorkingSet;
        const string status = "/proc/self/status";
        if (File.Exists(status))
            foreach (var line in File.ReadLines(status))
                if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                    resident = long.Parse(line["RssAnon:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        return resident - GC.GetGCMemoryInfo().TotalCommittedBytes;
    }

    internal static bool CollectUntil(Func<bool> done)
    {
        for (var i = 0; i < 50; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            if (done()) return true;
            Thread.Sleep(20);
        }
        return done();
    }
}
