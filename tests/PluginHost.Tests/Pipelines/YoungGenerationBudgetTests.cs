using PluginHost.Pipelines;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Pipelines;

/// <summary>The gen0 budget (runs alone: it reads and sets process-wide GC state).</summary>
[Collection(ManagedMemoryCollection.Name)]
public sealed class YoungGenerationBudgetTests
{
    private static long s_sink;

    private static void Allocate(long bytes)
    {
        for (long done = 0; done < bytes; done += 1024) s_sink += new byte[1000].Length;
    }

    [Fact]
    public void Past_the_budget_a_gen0_collection_is_asked_for_and_under_it_none()
    {
        var budget = new YoungGenerationBudget();
        budget.Budget = 64L << 20; // far more than the runtime's own gen0 budget: it never fills
        budget.Check(); // take the mark
        var induced = budget.Induced;
        Allocate(1L << 20);
        budget.Check();
        Assert.Equal(induced, budget.Induced);

        budget.Budget = 512 * 1024;
        GC.Collect(0); // start counting from a fresh collection
        budget.Check();
        var collections = GC.CollectionCount(0);
        Allocate(2L << 20);
        budget.Check();
        Assert.Equal(induced + 1, budget.Induced);
        Assert.True(GC.CollectionCount(0) > collections);

        budget.Budget = 0; // off: never collects
        Allocate(2L << 20);
        budget.Check();
        Assert.Equal(induced + 1, budget.Induced);
    }
}
