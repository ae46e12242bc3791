using System.Text;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Webhook;

/// <summary>A task compiled at start: its final URL, the tables and operations it takes, and its fixed headers.</summary>
internal sealed class WebhookRoute
{
    private readonly string? _databasePattern;
    private readonly string _tablePattern;
    private readonly bool _exact;
    private readonly string _qualified;

    public WebhookRoute(int index, string id, string table, IReadOnlyList<ChangeOperation> operations, Uri url,
        IReadOnlyList<KeyValuePair<string, string>> headers)
    {
        Index = index;
        Id = id;
        Table = table;
        Url = url;
        Headers = headers;
        DisplayUrl = UrlRedaction.Display(url.ToString());
        DisplayId = UrlRedaction.Display(id);
        Insert = operations.Contains(ChangeOperation.Insert);
        Update = operations.Contains(ChangeOperation.Update);
        Delete = operations.Contains(ChangeOperation.Delete);
        Read = operations.Contains(ChangeOperation.Read);
        _qualified = table;
        if (!table.Contains('*'))
        {
            _exact = true;
            _tablePattern = table;
        }
        else
        {
            var dot = table.IndexOf('.');
            if (dot < 0) _tablePattern = table;
            else
            {
                _databasePattern = table[..dot];
                _tablePattern = table[(dot + 1)..];
            }
        }
    }

    public int Index { get; }

    /// <summary>The task id (pikachu's task_id; default the URL as written).</summary>
    public string Id { get; }

    /// <summary>The table setting as written.</summary>
    public string Table { get; }

    /// <summary>The final URL, built once.</summary>
    public Uri Url { get; }

    /// <summary>
    /// <see cref="Url"/> as shown in logs and dead-letter records: userinfo, query values and token path segments
    /// masked (<see cref="UrlRedaction"/>).
    /// </summary>
    public string DisplayUrl { get; }

    /// <summary><see cref="Id"/> as shown (the id defaults to the URL as written, so it is masked the same way).</summary>
    public string DisplayId { get; }

    /// <summary>Custom headers and the Authorization header, if any.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    public bool Insert { get; }
    public bool Update { get; }
    public bool Delete { get; }
    public bool Read { get; }

    private long _lastWarning;
    private int _suppressed;

    /// <summary>Failure messages of one task are logged at most every 5 s; the ones in between are counted.</summary>
    public bool ShouldLog(out int suppressed)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastWarning);
        if (last != 0 && now - last < 5000 || Interlocked.CompareExchange(ref _lastWarning, now, last) != last)
        {
            Interlocked.Increment(ref _suppressed);
            suppressed = 0;
            return false;
        }
        suppressed = Interlocked.Exchange(ref _suppressed, 0);
        return true;
    }

    public bool Takes(ChangeOperation op) => op switch
    {
        ChangeOperation.Insert => Insert,
        ChangeOperation.Update => Update,
        ChangeOperation.Read => Read,
        _ => Delete,
    };

    /// <summary>
    /// True when events of <paramref name="database"/>.<paramref name="table"/> belong to this task. A plain name matches
    /// the table in any database or <c>database.table</c> exactly (so names holding dots, keywords such as <c>order</c>
    /// and names such as <c>2024_user-activity_log</c> need no quoting); a name with <c>*</c> is a pattern.
    /// </summary>
    public bool Matches(string database, string table)
    {
        if (_exact)
            return string.Equals(table, _tablePattern, StringComparison.Ordinal) ||
                   _qualified.Length == database.Length + 1 + table.Length &&
                   _qualified.StartsWith(database, StringComparison.Ordinal) && _qualified[database.Length] == '.' &&
                   _qualified.EndsWith(table, StringComparison.Ordinal);
        if (_databasePattern != null && !Glob(_databasePattern, database)) return false;
        return Glob(_tablePattern, table);
    }

    /// <summary>Matches <c>*</c> (any run of characters) against text, ordinal.</summary>
    internal static bool Glob(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] != '*' && pattern[p] == text[t]) { p++; t++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = t; }
            else if (star >= 0) { p = star + 1; t = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }

    /// <summary>
    /// pikachu's URL rule: an absolute URL stays as is; a relative one is appended to <paramref name="callbackHost"/>
    /// keeping the host's path (<c>http://h/api</c> + <c>/hooks/x</c> → <c>http://h/api/hooks/x</c>).
    /// </summary>
    public static string Join(string? callbackHost, string url)
    {
        if (Uri.TryCreate(url, UriKind.Absolute, out var abs) && (abs.Scheme == Uri.UriSchemeHttp || abs.Scheme == Uri.UriSchemeHttps))
            return url;
        if (string.IsNullOrEmpty(callbackHost)) return url;
        var host = callbackHost.EndsWith('/') ? callbackHost : callbackHost + "/";
        return host + url.TrimStart('/');
    }

    public static string BasicHeader(string user, string password) =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));
}

/// <summary>The routes of one table, per operation (computed once per table and cached).</summary>
internal sealed class TableRoutes(WebhookRoute[] insert, WebhookRoute[] update, WebhookRoute[] delete, WebhookRoute[] read)
{
    public WebhookRoute[] For(ChangeOperation op) => op switch
    {
        ChangeOperation.Insert => insert,
        ChangeOperation.Update => update,
        ChangeOperation.Read => read,
        _ => delete,
    };
}

/// <summary>Finds the tasks of an event: by <see cref="ChangeEvent.Destination"/> (a task id) when set, else by table and type.</summary>
internal sealed class WebhookRouter
{
    private readonly WebhookRoute[] _routes;
    private readonly Dictionary<(string Database, string Table), TableRoutes> _cache = new();
    private readonly Dictionary<string, WebhookRoute[]> _byId;

    public WebhookRouter(WebhookRoute[] routes)
    {
        _routes = routes;
        _byId = routes.GroupBy(r => r.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        // Dead-letter records name a task by its display id (a URL id masked): replay finds it by that too.
        foreach (var g in routes.Where(r => r.DisplayId != r.Id).GroupBy(r => r.DisplayId, StringComparer.Ordinal))
            _byId.TryAdd(g.Key, g.ToArray());
    }

    public IReadOnlyList<WebhookRoute> Routes => _routes;

    /// <summary>The routes of an event; not thread-safe (the host calls WriteAsync one at a time).</summary>
    public WebhookRoute[] Find(ChangeEvent e)
    {
        if (e.Destination is { } destination && _byId.TryGetValue(destination, out var named))
        {
            // A named task (set by a transform, or by deadletter replay): prefer those of the event's table.
            var matching = named.Where(r => r.Matches(e.Database, e.Table)).ToArray();
            return matching.Length > 0 ? matching : named[..1];
        }
        var key = (e.Database, e.Table);
        if (!_cache.TryGetValue(key, out var set))
        {
            var all = _routes.Where(r => r.Matches(e.Database, e.Table)).ToArray();
            set = new TableRoutes(all.Where(r => r.Insert).ToArray(), all.Where(r => r.Update).ToArray(), all.Where(r => r.Delete).ToArray(), all.Where(r => r.Read).ToArray());
            if (_cache.Count > 100_000) _cache.Clear();
            _cache[key] = set;
        }
        return set.For(e.Op);
    }
}
