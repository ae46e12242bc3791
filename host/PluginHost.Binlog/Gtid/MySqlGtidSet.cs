using System.Globalization;
using System.Text;

namespace PluginHost.Binlog.Gtid;

/// <summary>
/// A MySQL GTID set: for each server UUID and tag (MySQL 8.3+; "" for an untagged GTID), the transaction numbers as
/// sorted, merged, inclusive intervals. Text form <c>3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18:etl:1-3,4f…:1-27</c>;
/// binary form as used by COM_BINLOG_DUMP_GTID and PREVIOUS_GTIDS_LOG_EVENT (see <see cref="Encode"/>).
/// Not thread-safe.
/// </summary>
public sealed partial class MySqlGtidSet : IEquatable<MySqlGtidSet>
{
    private readonly Dictionary<(Guid Uuid, string Tag), GtidIntervalList> _sets = new();

    /// <summary>Creates an empty set.</summary>
    public MySqlGtidSet()
    {
    }

    /// <summary>True when the set holds no transaction.</summary>
    public bool IsEmpty => _sets.Count == 0;

    /// <summary>True when some transaction of the set has a tag (the binary form then uses the tagged encoding).</summary>
    public bool HasTags => _sets.Keys.Any(k => k.Tag.Length > 0);

    /// <summary>The server UUIDs with at least one transaction, in canonical (text) order.</summary>
    public IReadOnlyList<Guid> ServerUuids => SortedKeys().Select(k => k.Uuid).Distinct().ToArray();

    /// <summary>The tags of one server's transactions in canonical order ("" for untagged ones first).</summary>
    public IReadOnlyList<string> GetTags(Guid serverUuid) =>
        SortedKeys().Where(k => k.Uuid == serverUuid).Select(k => k.Tag).ToArray();

    /// <summary>The inclusive intervals of one server's untagged transactions (or of one tag), sorted and merged;
    /// empty when absent.</summary>
    public IReadOnlyList<(long First, long Last)> GetIntervals(Guid serverUuid, string tag = "")
    {
        if (!_sets.TryGetValue((serverUuid, tag), out var list)) return [];
        var result = new (long, long)[list.Count];
        for (var i = 0; i < result.Length; i++) result[i] = (list[i].First, list[i].Last);
        return result;
    }

    /// <summary>Adds one transaction. Cheap when transactions arrive in order (the common case).</summary>
    /// <returns>True when the GTID was not in the set yet.</returns>
    public bool Add(MySqlGtid gtid)
    {
        if (gtid.TransactionId < 1)
            throw new ArgumentException("default(MySqlGtid) cannot be added", nameof(gtid));
        return ListFor(gtid.ServerUuid, gtid.Tag).Add(gtid.TransactionId);
    }

    /// <summary>Adds the inclusive range <paramref name="first"/>…<paramref name="last"/> of one server (and tag).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or outside 1…<see cref="MySqlGtid.MaxTransactionId"/>.</exception>
    /// <exception cref="ArgumentException">The tag is not a valid GTID tag.</exception>
    public void AddRange(Guid serverUuid, long first, long last, string tag = "")
    {
        if (first < 1 || last > MySqlGtid.MaxTransactionId || last < first)
            throw new ArgumentOutOfRangeException(nameof(first), $"invalid GTID range {first}-{last}");
        ListFor(serverUuid, tag).AddRange(first, last);
    }

    private GtidIntervalList ListFor(Guid uuid, string? tag)
    {
        tag = MySqlGtid.NormalizeTag(tag ?? "");
        if (!_sets.TryGetValue((uuid, tag), out var list))
        {
            list = new GtidIntervalList();
            _sets.Add((uuid, tag), list);
        }
        return list;
    }

    /// <summary>Adds every transaction of <paramref name="other"/>.</summary>
    public void UnionWith(MySqlGtidSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var ((uuid, tag), list) in other._sets)
            for (var i = 0; i < list.Count; i++)
                AddRange(uuid, list[i].First, list[i].Last, tag);
    }

    /// <summary>True when the set holds <paramref name="gtid"/> (same server, same tag, same number).</summary>
    public bool Contains(MySqlGtid gtid) =>
        _sets.TryGetValue((gtid.ServerUuid, gtid.Tag), out var list) && list.Contains(gtid.TransactionId);

    /// <summary>True when every transaction of <paramref name="other"/> is in this set.</summary>
    public bool IsSupersetOf(MySqlGtidSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (key, list) in other._sets)
        {
            if (!_sets.TryGetValue(key, out var mine)) return false;
            for (var i = 0; i < list.Count; i++)
                if (!mine.ContainsRange(list[i].First, list[i].Last)) return false;
        }
        return true;
    }

    /// <summary>A deep copy.</summary>
    public MySqlGtidSet Clone()
    {
        var copy = new MySqlGtidSet();
        foreach (var (key, list) in _sets) copy._sets.Add(key, list.Clone());
        return copy;
    }

    // ---------------------------------------------------------------- text

    /// <summary>
    /// Parses the text form: comma-separated <c>uuid:interval[:interval…][:tag:interval[:interval…]…]</c> where an
    /// interval is <c>n</c> or <c>n-m</c> and a tag (MySQL 8.3+) is a letter or <c>_</c> followed by up to 31 letters,
    /// digits or <c>_</c>; the intervals after a tag belong to it. Case-insensitive (tags are kept in lowercase, as MySQL
    /// does); whitespace and newlines around the parts are ignored; overlapping or adjacent intervals are merged; an
    /// empty (or blank) string is the empty set. A UUID may be written with dashes, without, or in braces.
    /// </summary>
    /// <exception cref="FormatException">The text is malformed; the message quotes the offending part.</exception>
    public static MySqlGtidSet Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var set = new MySqlGtidSet();
        if (string.IsNullOrWhiteSpace(text)) return set;
        foreach (var rawPart in text.Split(','))
        {
            var part = rawPart.AsSpan().Trim();
            if (part.IsEmpty)
                throw new FormatException($"GTID set '{text.Trim()}' has an empty element between commas");
            var colon = part.IndexOf(':');
            var uuid = ParseUuid((colon < 0 ? part : part[..colon]).Trim(), text);
            if (colon < 0) continue; // "uuid" alone: no transactions (MySQL accepts it)
            var rest = part[(colon + 1)..];
            var tag = "";
            var tagHasInterval = true;
            while (true)
            {
                var next = rest.IndexOf(':');
                var item = (next < 0 ? rest : rest[..next]).Trim();
                if (!item.IsEmpty && (char.IsAsciiLetter(item[0]) || item[0] == '_'))
                {
                    if (!tagHasInterval)
                        throw new FormatException($"tag '{tag}' in GTID set '{Shorten(text)}' has no transactions");
                    tag = ParseTag(item, text);
                    tagHasInterval = false;
                }
                else
                {
                    ParseInterval(item, text, out var first, out var last);
                    set.AddRange(uuid, first, last, tag);
                    tagHasInterval = true;
                }
                if (next < 0) break;
                rest = rest[(next + 1)..];
            }
            if (!tagHasInterval)
                throw new FormatException($"tag '{tag}' in GTID set '{Shorten(text)}' has no transactions");
        }
        return set;
    }

    /// <summary>Parses like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse(string? text, out MySqlGtidSet set)
    {
        set = new MySqlGtidSet();
        if (text is null) return false;
        try
        {
            set = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// The canonical text, as MySQL prints it: lowercase UUIDs in ascending order, each followed by its untagged
    /// intervals and then each tag (ascending) with its intervals (<c>a-b</c>, or <c>a</c> for a single transaction),
    /// elements separated by <c>,</c>; empty for the empty set.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        Guid? current = null;
        foreach (var key in SortedKeys())
        {
            if (current != key.Uuid)
            {
                if (sb.Length > 0) sb.Append(',');
                sb.Append(key.Uuid.ToString("D"));
                current = key.Uuid;
            }
            if (key.Tag.Length > 0) sb.Append(':').Append(key.Tag);
            var list = _sets[key];
            for (var i = 0; i < list.Count; i++)
            {
                var (first, last) = (list[i].First, list[i].Last);
                sb.Append(':').Append(first.ToString(CultureInfo.InvariantCulture));
                if (last != first) sb.Append('-').Append(last.ToString(CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }

    internal static Guid ParseUuid(ReadOnlySpan<char> s, string whole)
    {
        if (s.Length is 36 or 32 or 38 &&
            Guid.TryParseExact(s, s.Length == 36 ? "D" : s.Length == 32 ? "N" : "B", out var guid))
            return guid;
        throw new FormatException($"'{s}' in GTID set '{Shorten(whole)}' is not a server UUID");
    }

    internal static string ParseTag(ReadOnlySpan<char> s, string whole)
    {
        if (!MySqlGtid.IsValidTag(s))
            throw new FormatException(
                $"'{s}' in GTID set '{Shorten(whole)}' is not a GTID tag (a letter or '_', then up to 31 letters, digits or '_')");
        return s.ToString().ToLowerInvariant();
    }

    internal static long ParseTransactionId(ReadOnlySpan<char> s, string whole)
    {
        if (s.IsEmpty)
            throw new FormatException($"GTID set '{Shorten(whole)}' has an empty transaction number");
        foreach (var c in s)
            if (c is < '0' or > '9')
                throw new FormatException($"'{s}' in GTID set '{Shorten(whole)}' is not a transaction number");
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > MySqlGtid.MaxTransactionId)
            throw new FormatException($"transaction number '{s}' in GTID set '{Shorten(whole)}' must be between 1 and {MySqlGtid.MaxTransactionId}");
        return n;
    }

    private static void ParseInterval(ReadOnlySpan<char> s, string whole, out long first, out long last)
    {
        if (s.IsEmpty)
            throw new FormatException($"GTID set '{Shorten(whole)}' has an empty interval");
        var dash = s.IndexOf('-');
        if (dash < 0)
        {
            first = last = ParseTransactionId(s, whole);
            return;
        }
        first = ParseTransactionId(s[..dash].Trim(), whole);
        last = ParseTransactionId(s[(dash + 1)..].Trim(), whole);
        if (last < first)
            throw new FormatException($"interval '{s}' in GTID set '{Shorten(whole)}' ends before it starts");
    }

    private static string Shorten(string s)
    {
        s = s.Trim();
        return s.Length <= 200 ? s : s[..200] + "…";
    }

    // ---------------------------------------------------------------- equality

    /// <summary>True when both sets hold the same transactions.</summary>
    public bool Equals(MySqlGtidSet? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (_sets.Count != other._sets.Count) return false;
        foreach (var (key, list) in _sets)
            if (!other._sets.TryGetValue(key, out var o) || !list.SameAs(o)) return false;
        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as MySqlGtidSet);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = 0;
        foreach (var (key, list) in _sets) hash ^= HashCode.Combine(key, list.Count, list[0].First, list[^1].Last);
        return hash;
    }

    /// <summary>The (UUID, tag) keys in canonical order: UUIDs by their text, then "" before the tags in ordinal order.</summary>
    private (Guid Uuid, string Tag)[] SortedKeys()
    {
        var keys = _sets.Keys.ToArray();
        Array.Sort(keys, (a, b) =>
        {
            var c = CompareUuids(a.Uuid, b.Uuid);
            return c != 0 ? c : string.CompareOrdinal(a.Tag, b.Tag);
        });
        return keys;
    }

    /// <summary>Orders UUIDs by their bytes in text order, i.e. like their lowercase text.</summary>
    internal static int CompareUuids(Guid a, Guid b)
    {
        Span<byte> x = stackalloc byte[16], y = stackalloc byte[16];
        WriteUuid(a, x);
        WriteUuid(b, y);
        return x.SequenceCompareTo(y);
    }
}
