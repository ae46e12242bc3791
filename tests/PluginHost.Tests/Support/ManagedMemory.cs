namespace PluginHost.Tests.Support;

/// <summary>
/// Tests that compare the size of the managed heap at two points. The heap is process-wide, so these tests run in a
/// collection that xunit runs alone, after every parallel collection has finished: other tests' allocations (a
/// MariaDB test filling a channel, a Kestrel receiver buffering a batch) would otherwise be counted as our growth.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ManagedMemoryCollection
{
    public const string Name = "Managed memory (runs alone)";
}

/// <summary>Measures the live managed heap once it has settled.</summary>
public static class ManagedMemory
{
    /// <summary>
    /// The smallest of several full-collection readings a few milliseconds apart: whatever a finishing background task
    /// (a timer, a logger flush) held at one reading is gone at the next, while a real leak shows in every reading.
    /// </summary>
    public static long Settled(int readings = 5)
    {
        var smallest = long.MaxValue;
        for (var i = 0; i < readings; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            smallest = Math.Min(smallest, GC.GetTotalMemory(forceFullCollection: true));
            Thread.Sleep(20);
        }
        return smallest;
    }
}
