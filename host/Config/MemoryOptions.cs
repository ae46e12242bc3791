namespace PluginHost.Config;

/// <summary>The <c>memory</c> block: how the host keeps its footprint small.</summary>
internal sealed class MemoryOptions
{
    /// <summary>
    /// Bytes allocated between youngest-generation collections before the host asks for one (see
    /// the pipelines' <c>YoungGenerationBudget</c>); 0 leaves the gen0 budget to the runtime (faster on a busy
    /// machine with memory to spare, tens of MB more resident).
    /// </summary>
    public long Gen0Budget { get; set; } = 8L << 20;
}
