namespace PluginHost.Tests.Support;

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
