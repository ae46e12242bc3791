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
