using PluginHost.Sdk;

namespace PluginHost.Config;

/// <summary>
/// Table and operation filter: include/exclude patterns of the form <c>database.table</c> where <c>*</c> matches
/// any run of characters and <c>?</c> one; excludes win. The database and table parts are matched separately, and
/// every other character of a pattern only matches itself: names are data (a newline, a dot or a regex metacharacter
/// in a name is just a character). Decisions are cached per table.
/// </summary>
internal sealed class EventFilter
{
    private readonly (string Database, string Table)[] _include;
    private readonly (string Database, string Table)[] _exclude;
    private readonly bool[] _ops = new bool[Enum.GetValues<ChangeOperation>().Length];
    private readonly Dictionary<(string, string), bool> _cache = new();
    private readonly Func<string, string, bool>? _regex;

    public EventFilter(IEnumerable<string> include, IEnumerable<string> exclude, IEnumerable<ChangeOperation> operations,
        Func<string, string, bool>? regex = null)
    {
        _regex = regex;
        _include = include.Select(Split).ToArray();
        _exclude = exclude.Select(Split).ToArray();
        foreach (var op in operations) _ops[(int)op] = true;
    }

    /// <summary>True when a table is wanted at all (for skipping whole rows events).</summary>
    public bool IncludesTable(string database, string table)
    {
        lock (_cache)
        {
            if (_cache.TryGetValue((database, table), out var hit)) return hit;
            var result = _include.Any(p => Matches(p, database, table)) && !_exclude.Any(p => Matches(p, database, table))
                         && (_regex?.Invoke(database, table) ?? true);
            if (_cache.Count > 100_000) _cache.Clear();
            _cache[(database, table)] = result;
            return result;
        }
    }

    public bool IncludesOperation(ChangeOperation op) => _ops[(int)op];

    /// <summary>True when a pattern is well-formed (<c>db.table</c>, wildcards allowed).</summary>
    public static bool IsValidPattern(string pattern) => pattern.Count(c => c == '.') == 1 && !pattern.StartsWith('.') && !pattern.EndsWith('.');

    private static (string, string) Split(string pattern)
    {
        var dot = pattern.IndexOf('.');
        return dot < 0 ? (pattern, "") : (pattern[..dot], pattern[(dot + 1)..]);
    }

    private static bool Matches((string Database, string Table) pattern, string database, string table) =>
        Glob.IsMatch(pattern.Database, database) && Glob.IsMatch(pattern.Table, table);
}
