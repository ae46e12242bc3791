using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace PluginHost.Binlog.Gtid;

/// <summary>
/// A MySQL GTID set: for each server UUID, the transaction numbers as sorted, merged, inclusive intervals.
/// Text form <c>3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18,4f…:1-27</c>; binary form as used by
/// COM_BINLOG_DUMP_GTID and PREVIOUS_GTIDS_LOG_EVENT (see <see cref="Encode"/>).
/// Not thread-safe.
/// </summary>
/// <remarks>
/// MySQL 8.3+ tagged GTIDs are not supported: tags in text are rejected with a <see cref="FormatException"/> and the
/// tagged binary encoding with a <see cref="NotSupportedException"/>.
/// </remarks>
public sealed class MySqlGtidSet : IEquatable<MySqlGtidSet>
{
    private readonly Dictionary<Guid, IntervalList> _sets = new();

    /// <summary>Creates an empty set.</summary>
    public MySqlGtidSet()
    {
    }

    /// <summary>True when the set holds no transaction.</summary>
    public bool IsEmpty => _sets.Count == 0;

    /// <summary>The server UUIDs with at least one transaction, in canonical (text) order.</summary>
    public IReadOnlyList<Guid> ServerUuids => SortedUuids();

    /// <summary>The inclusive intervals of one server, sorted and merged; empty when the server is absent.</summary>
    public IReadOnlyList<(long First, long Last)> GetIntervals(Guid serverUuid)
    {
        if (!_sets.TryGetValue(serverUuid, out var list)) return [];
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
        if (!_sets.TryGetValue(gtid.ServerUuid, out var list))
        {
            list = new IntervalList();
            _sets.Add(gtid.ServerUuid, list);
        }
        return list.Add(gtid.TransactionId);
    }

    /// <summary>Adds the inclusive range <paramref name="first"/>…<paramref name="last"/> of one server.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or outside 1…<see cref="MySqlGtid.MaxTransactionId"/>.</exception>
    public void AddRange(Guid serverUuid, long first, long last)
    {
        if (first < 1 || last > MySqlGtid.MaxTransactionId || last < first)
            throw new ArgumentOutOfRangeException(nameof(first), $"invalid GTID range {first}-{last}");
        if (!_sets.TryGetValue(serverUuid, out var list))
        {
            list = new IntervalList();
            _sets.Add(serverUuid, list);
        }
        list.AddRange(first, last);
    }

    /// <summary>Adds every transaction of <paramref name="other"/>.</summary>
    public void UnionWith(MySqlGtidSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (uuid, list) in other._sets)
            for (var i = 0; i < list.Count; i++)
                AddRange(uuid, list[i].First, list[i].Last);
    }

    /// <summary>True when the set holds <paramref name="gtid"/>.</summary>
    public bool Contains(MySqlGtid gtid) =>
        _sets.TryGetValue(gtid.ServerUuid, out var list) && list.Contains(gtid.TransactionId);

    /// <summary>A deep copy.</summary>
    public MySqlGtidSet Clone()
    {
        var copy = new MySqlGtidSet();
        foreach (var (uuid, list) in _sets) copy._sets.Add(uuid, list.Clone());
        return copy;
    }

    // ---------------------------------------------------------------- text

    /// <summary>
    /// Parses the text form: comma-separated <c>uuid:interval[:interval…]</c> where an interval is <c>n</c> or <c>n-m</c>.
    /// Case-insensitive; whitespace and newlines around the parts are ignored; overlapping or adjacent intervals are
    /// merged; an empty (or blank) string is the empty set. A UUID may be written with dashes, without, or in braces.
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
            while (true)
            {
                var next = rest.IndexOf(':');
                var interval = (next < 0 ? rest : rest[..next]).Trim();
                ParseInterval(interval, text, out var first, out var last);
                set.AddRange(uuid, first, last);
                if (next < 0) break;
                rest = rest[(next + 1)..];
            }
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
    /// The canonical text: lowercase UUIDs in ascending order, each followed by its merged intervals
    /// (<c>a-b</c>, or <c>a</c> for a single transaction), elements separated by <c>,</c>; empty for the empty set.
    /// </summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var uuid in SortedUuids())
        {
            if (sb.Length > 0) sb.Append(',');
            sb.Append(uuid.ToString("D"));
            var list = _sets[uuid];
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

    internal static long ParseTransactionId(ReadOnlySpan<char> s, string whole)
    {
        if (s.IsEmpty)
            throw new FormatException($"GTID set '{Shorten(whole)}' has an empty transaction number");
        foreach (var c in s)
        {
            if (c is < '0' or > '9')
            {
                if (char.IsLetter(s[0]) || s[0] == '_')
                    throw new FormatException($"'{s}' in GTID set '{Shorten(whole)}' looks like a GTID tag; tagged GTIDs (MySQL 8.3+) are not supported");
                throw new FormatException($"'{s}' in GTID set '{Shorten(whole)}' is not a transaction number");
            }
        }
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

    // ---------------------------------------------------------------- binary

    /// <summary>
    /// The binary encoding used by COM_BINLOG_DUMP_GTID and PREVIOUS_GTIDS_LOG_EVENT, all integers little-endian:
    /// uint64 number of UUIDs; per UUID (ascending): 16 UUID bytes in text order, uint64 number of intervals,
    /// and per interval int64 first and int64 end, the end being exclusive (last + 1).
    /// </summary>
    public byte[] Encode()
    {
        var uuids = SortedUuids();
        var size = 8L;
        foreach (var uuid in uuids) size += 16 + 8 + 16L * _sets[uuid].Count;
        var buffer = new byte[size];
        var span = buffer.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(span, (ulong)uuids.Length);
        var pos = 8;
        foreach (var uuid in uuids)
        {
            WriteUuid(uuid, span[pos..]);
            pos += 16;
            var list = _sets[uuid];
            BinaryPrimitives.WriteUInt64LittleEndian(span[pos..], (ulong)list.Count);
            pos += 8;
            for (var i = 0; i < list.Count; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(span[pos..], list[i].First);
                BinaryPrimitives.WriteInt64LittleEndian(span[(pos + 8)..], list[i].Last + 1);
                pos += 16;
            }
        }
        return buffer;
    }

    /// <summary>Decodes the binary form written by <see cref="Encode"/>; every byte must belong to the set.</summary>
    /// <exception cref="FormatException">The data is truncated, has trailing bytes, or holds an invalid interval.</exception>
    /// <exception cref="NotSupportedException">The data uses MySQL 8.3+'s tagged GTID encoding.</exception>
    public static MySqlGtidSet Decode(ReadOnlySpan<byte> data)
    {
        var set = Decode(data, out var consumed);
        if (consumed != data.Length)
            throw new FormatException($"encoded GTID set has {data.Length - consumed} unexpected trailing bytes");
        return set;
    }

    /// <summary>Decodes the binary form written by <see cref="Encode"/> from the start of <paramref name="data"/>.</summary>
    /// <param name="data">The encoding, possibly followed by other bytes.</param>
    /// <param name="bytesConsumed">How many bytes the set occupied.</param>
    /// <exception cref="FormatException">The data is truncated or holds an invalid interval.</exception>
    /// <exception cref="NotSupportedException">The data uses MySQL 8.3+'s tagged GTID encoding.</exception>
    public static MySqlGtidSet Decode(ReadOnlySpan<byte> data, out int bytesConsumed)
    {
        if (data.Length < 8)
            throw new FormatException($"encoded GTID set truncated: {data.Length} bytes, at least 8 needed");
        if (data[7] != 0)
            throw new NotSupportedException(
                $"encoded GTID set uses format {data[7]} (MySQL 8.3+ tagged GTIDs), which is not supported");
        var count = BinaryPrimitives.ReadUInt64LittleEndian(data);
        var pos = 8;
        if (count > (ulong)(data.Length - pos) / 24)
            throw new FormatException($"encoded GTID set claims {count} UUIDs but has only {data.Length} bytes");
        var set = new MySqlGtidSet();
        for (ulong s = 0; s < count; s++)
        {
            if (data.Length - pos < 24)
                throw new FormatException($"encoded GTID set truncated at byte {pos} (UUID {s})");
            var uuid = ReadUuid(data[pos..]);
            pos += 16;
            var intervals = BinaryPrimitives.ReadUInt64LittleEndian(data[pos..]);
            pos += 8;
            if (intervals > (ulong)(data.Length - pos) / 16)
                throw new FormatException($"encoded GTID set claims {intervals} intervals for {uuid} but the data is too short");
            for (ulong i = 0; i < intervals; i++)
            {
                var start = BinaryPrimitives.ReadInt64LittleEndian(data[pos..]);
                var end = BinaryPrimitives.ReadInt64LittleEndian(data[(pos + 8)..]);
                if (start < 1 || end <= start)
                    throw new FormatException($"encoded GTID set has invalid interval [{start}, {end}) for {uuid} at byte {pos}");
                set.AddRange(uuid, start, end - 1);
                pos += 16;
            }
        }
        bytesConsumed = pos;
        return set;
    }

    /// <summary>Reads a UUID from 16 bytes in text order (big-endian), as MySQL sends it.</summary>
    internal static Guid ReadUuid(ReadOnlySpan<byte> bytes) => new(bytes[..16], bigEndian: true);

    /// <summary>Writes a UUID as 16 bytes in text order (big-endian).</summary>
    internal static void WriteUuid(Guid uuid, Span<byte> dest) => uuid.TryWriteBytes(dest, bigEndian: true, out _);

    // ---------------------------------------------------------------- equality

    /// <summary>True when both sets hold the same transactions.</summary>
    public bool Equals(MySqlGtidSet? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (_sets.Count != other._sets.Count) return false;
        foreach (var (uuid, list) in _sets)
            if (!other._sets.TryGetValue(uuid, out var o) || !list.SameAs(o)) return false;
        return true;
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as MySqlGtidSet);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = 0;
        foreach (var (uuid, list) in _sets) hash ^= HashCode.Combine(uuid, list.Count, list[0].First, list[^1].Last);
        return hash;
    }

    private Guid[] SortedUuids()
    {
        var uuids = _sets.Keys.ToArray();
        Array.Sort(uuids, CompareUuids);
        return uuids;
    }

    /// <summary>Orders UUIDs by their bytes in text order, i.e. like their lowercase text.</summary>
    internal static int CompareUuids(Guid a, Guid b)
    {
        Span<byte> x = stackalloc byte[16], y = stackalloc byte[16];
        WriteUuid(a, x);
        WriteUuid(b, y);
        return x.SequenceCompareTo(y);
    }

    /// <summary>Sorted, disjoint, non-adjacent inclusive intervals of one server.</summary>
    private sealed class IntervalList
    {
        private Interval[] _items = new Interval[4];

        public int Count { get; private set; }

        public ref Interval this[int index] => ref _items[index];

        public ref Interval this[Index index] => ref _items[index.GetOffset(Count)];

        public bool Add(long n)
        {
            if (Count > 0)
            {
                ref var last = ref _items[Count - 1];
                if (n == last.Last + 1)
                {
                    last.Last = n;
                    return true;
                }
                if (n > last.Last + 1)
                {
                    Append(n, n);
                    return true;
                }
                if (n >= last.First) return false;
                if (Contains(n)) return false;
            }
            AddRange(n, n);
            return true;
        }

        public bool Contains(long n)
        {
            int lo = 0, hi = Count - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                if (_items[mid].Last < n) lo = mid + 1;
                else if (_items[mid].First > n) hi = mid - 1;
                else return true;
            }
            return false;
        }

        public void AddRange(long first, long last)
        {
            // i: first interval that ends at or after first - 1 (could touch or overlap);
            // j: first interval that starts after last + 1 (strictly beyond reach).
            var i = LowerBoundByLast(first - 1);
            var j = i;
            while (j < Count && _items[j].First <= last + 1) j++;
            if (i == j)
            {
                Insert(i, first, last);
                return;
            }
            var merged = new Interval(Math.Min(first, _items[i].First), Math.Max(last, _items[j - 1].Last));
            _items[i] = merged;
            var removed = j - i - 1;
            if (removed > 0)
            {
                Array.Copy(_items, j, _items, i + 1, Count - j);
                Count -= removed;
            }
        }

        public IntervalList Clone()
        {
            var copy = new IntervalList { _items = (Interval[])_items.Clone() };
            copy.Count = Count;
            return copy;
        }

        public bool SameAs(IntervalList other) =>
            Count == other.Count && _items.AsSpan(0, Count).SequenceEqual(other._items.AsSpan(0, other.Count));

        private int LowerBoundByLast(long value)
        {
            int lo = 0, hi = Count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (_items[mid].Last < value) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }

        private void Append(long first, long last) => Insert(Count, first, last);

        private void Insert(int index, long first, long last)
        {
            if (Count == _items.Length) Array.Resize(ref _items, _items.Length * 2);
            if (index < Count) Array.Copy(_items, index, _items, index + 1, Count - index);
            _items[index] = new Interval(first, last);
            Count++;
        }
    }

    private record struct Interval(long First, long Last);
}
