using System.Text.RegularExpressions;

namespace PluginHost.Config;

/// <summary>
/// <c>filter.regex</c>: go-mysql-kafka's (prensio's) <c>[source_rules]</c> — regular expressions on the schema and the
/// table name, searched anywhere in the name as Go's <c>MatchString</c> does (anchor with <c>^…$</c>). A table passes
/// when its schema matches an include (or there are none) and no exclude, and likewise its name. Applied on top of
/// <c>include</c>/<c>exclude</c>.
/// </summary>
internal sealed class RegexFilterOptions
{
    public List<string> IncludeSchemas { get; set; } = [];
    public List<string> ExcludeSchemas { get; set; } = [];
    public List<string> IncludeTables { get; set; } = [];
    public List<string> ExcludeTables { get; set; } = [];

    /// <summary>True when no list has a pattern (everything passes).</summary>
    public bool IsEmpty => IncludeSchemas.Count + ExcludeSchemas.Count + IncludeTables.Count + ExcludeTables.Count == 0;

    /// <summary>Compiles the lists; a bad pattern is reported by key (<c>filter.regex.include_tables[0]</c>) and the filter is null.</summary>
    public Func<string, string, bool>? Compile(Action<string, string> error)
    {
        var ok = true;
        Regex[] Build(List<string> patterns, string key)
        {
            var result = new List<Regex>();
            for (var i = 0; i < patterns.Count; i++)
            {
                try
                {
                    result.Add(new Regex(patterns[i], RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100)));
                }
                catch (ArgumentException e)
                {
                    error($"filter.regex.{key}[{i}]", $"'{patterns[i]}' is not a valid regular expression: {e.Message}");
                    ok = false;
                }
            }
            return [.. result];
        }
        var includeSchemas = Build(IncludeSchemas, "include_schemas");
        var excludeSchemas = Build(ExcludeSchemas, "exclude_schemas");
        var includeTables = Build(IncludeTables, "include_tables");
        var excludeTables = Build(ExcludeTables, "exclude_tables");
        if (!ok) return null;
        if (IsEmpty) return (_, _) => true;
        return (schema, table) =>
            (includeSchemas.Length == 0 || includeSchemas.Any(r => IsMatch(r, schema))) && !excludeSchemas.Any(r => IsMatch(r, schema)) &&
            (includeTables.Length == 0 || includeTables.Any(r => IsMatch(r, table))) && !excludeTables.Any(r => IsMatch(r, table));
    }

    // A pattern that takes too long on a name (catastrophic backtracking) counts as no match: the table is left out.
    private static bool IsMatch(Regex r, string name)
    {
        try
        {
            return r.IsMatch(name);
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
    }
}
