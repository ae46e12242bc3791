using System.Text.RegularExpressions;
using PluginHost.Sdk;

namespace PluginHost.Pipelines;

/// <summary>
/// Table and operation filter: include/exclude patterns of the form <c>database.table</c> where <c>*</c> matches
/// any run of characters and <c>?</c> one; excludes win. Decisions are cached per table.
/// </summary>
public sealed class EventFilter
{
    private readonly Regex[] _include;
    private readonly Regex[] _exclude;
    private readonly bool[] _ops = new bool[3];
    private readonly Dictionary<(string, string), bool> _cache = new();

    public EventFilter(IEnumerable<string> include, IEnumerable<string> exclude, IEnumerable<ChangeOperation> operations)
    {
        _include = include.Select(ToRegex).ToArray();
        _exclude = exclude.Select(ToRegex).ToArray();
        foreach (var op in operations) _ops[(int)op] = true;
    }

    /// <summary>True when a table is wanted at all (for skipping whole rows events).</summary>
    public bool IncludesTable(string database, string table)
    {
        lock (_cache)
        {
            if (_cache.TryGetValue((database, table), out var hit)) return hit;
            var name = database + "." + table;
            var result = _include.Any(r => r.IsMatch(name)) && !_exclude.Any(r => r.IsMatch(name));
            if (_cache.Count > 100_000) _cache.Clear();
            _cache[(database, table)] = result;
            return result;
        }
    }

    public bool IncludesOperation(ChangeOperation op) => _ops[(int)op];

    /// <summary>True when a pattern is well-formed (<c>db.table</c>, wildcards allowed).</summary>
    public static bool IsValidPattern(string pattern) => pattern.Count(c => c == '.') == 1 && !pattern.StartsWith('.') && !pattern.EndsWith('.');

    private static Regex ToRegex(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant | RegexOptions.Compiled);
}
