namespace PluginHost.Config;

/// <summary>Which tables and operations a pipeline passes on. Patterns are <c>database.table</c> with <c>*</c> wildcards.</summary>
internal sealed class FilterOptions
{
    public List<string> Include { get; set; } = ["*.*"];
    public List<string> Exclude { get; set; } = [];
    public List<string> Events { get; set; } = ["insert", "update", "delete", "read"];

    /// <summary>Regular expressions on schema and table names (prensio's <c>source_rules</c>), applied on top of the patterns.</summary>
    public RegexFilterOptions Regex { get; set; } = new();
}
