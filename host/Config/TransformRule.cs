using System.Text.RegularExpressions;

namespace PluginHost.Config;

/// <summary>A validated rule of a JavaScript rule chain (prensio contract).</summary>
/// <param name="Name">The rule's name (unique in its chain).</param>
/// <param name="MatchSchema">Searched in the event's schema.</param>
/// <param name="MatchTable">Searched in the event's table.</param>
/// <param name="File">The script file as written (resolved like <c>transform:</c>), or null.</param>
/// <param name="Script">Inline source, or null.</param>
internal sealed record TransformRule(string Name, Regex MatchSchema, Regex MatchTable, string? File, string? Script)
{
    /// <summary>The name diagnostics use: the file as written, or <c>NAME (inline)</c>.</summary>
    public string DisplayName => File ?? $"{Name} (inline)";

    /// <summary>True when the rule applies to <paramref name="schema"/>.<paramref name="table"/>.</summary>
    public bool Matches(string schema, string table) =>
        (MatchSchema.ToString().Length == 0 || MatchSchema.IsMatch(schema)) && (MatchTable.ToString().Length == 0 || MatchTable.IsMatch(table));
}
