using System.Collections;
using System.Text;

namespace PluginHost.Binlog.Gtid;

/// <summary>
/// A MariaDB replication position: at most one GTID (the last one) per replication domain, written
/// comma-separated as in <c>@@gtid_slave_pos</c>, e.g. <c>0-1-42,1-2-7</c>. Kept sorted by domain id.
/// Not thread-safe.
/// </summary>
public sealed class MariaDbGtidList : IReadOnlyCollection<MariaDbGtid>, IEquatable<MariaDbGtidList>
{
    private readonly List<MariaDbGtid> _items = new();

    /// <summary>Creates an empty position.</summary>
    public MariaDbGtidList()
    {
    }

    /// <summary>Creates a position from GTIDs, one per domain.</summary>
    /// <exception cref="ArgumentException">Two GTIDs share a domain.</exception>
    public MariaDbGtidList(IEnumerable<MariaDbGtid> gtids)
    {
        ArgumentNullException.ThrowIfNull(gtids);
        foreach (var gtid in gtids)
        {
            var i = IndexOf(gtid.DomainId);
            if (i >= 0) throw new ArgumentException($"domain {gtid.DomainId} appears twice ({_items[i]} and {gtid})", nameof(gtids));
            _items.Insert(~i, gtid);
        }
    }

    /// <summary>Number of domains.</summary>
    public int Count => _items.Count;

    /// <summary>True when no domain has a GTID.</summary>
    public bool IsEmpty => _items.Count == 0;

    /// <summary>Records <paramref name="gtid"/> as the position of its domain, replacing the domain's previous GTID.</summary>
    public void Update(MariaDbGtid gtid)
    {
        // Few domains in practice: a short scan beats anything clever, and the common case hits the first entry.
        var i = IndexOf(gtid.DomainId);
        if (i >= 0) _items[i] = gtid;
        else _items.Insert(~i, gtid);
    }

    /// <summary>Removes a domain; returns false when it was absent.</summary>
    public bool Remove(uint domainId)
    {
        var i = IndexOf(domainId);
        if (i < 0) return false;
        _items.RemoveAt(i);
        return true;
    }

    /// <summary>The GTID of a domain, if present.</summary>
    public bool TryGet(uint domainId, out MariaDbGtid gtid)
    {
        var i = IndexOf(domainId);
        gtid = i >= 0 ? _items[i] : default;
        return i >= 0;
    }

    /// <summary>A copy.</summary>
    public MariaDbGtidList Clone()
    {
        var copy = new MariaDbGtidList();
        copy._items.AddRange(_items);
        return copy;
    }

    /// <summary>
    /// Parses <c>domain-server-sequence</c> GTIDs separated by commas (whitespace and newlines around them ignored);
    /// an empty or blank string is the empty position.
    /// </summary>
    /// <exception cref="FormatException">A GTID is malformed or a domain appears twice; the message names the part.</exception>
    public static MariaDbGtidList Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var list = new MariaDbGtidList();
        if (string.IsNullOrWhiteSpace(text)) return list;
        foreach (var part in text.Split(','))
        {
            if (part.AsSpan().Trim().IsEmpty)
                throw new FormatException($"MariaDB GTID list '{text.Trim()}' has an empty element between commas");
            var gtid = MariaDbGtid.Parse(part.AsSpan(), text);
            var i = list.IndexOf(gtid.DomainId);
            if (i >= 0)
                throw new FormatException($"MariaDB GTID list '{text.Trim()}' has two GTIDs for domain {gtid.DomainId} ({list._items[i]} and {gtid})");
            list._items.Insert(~i, gtid);
        }
        return list;
    }

    /// <summary>Parses like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse(string? text, out MariaDbGtidList list)
    {
        list = new MariaDbGtidList();
        if (text is null) return false;
        try
        {
            list = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The GTIDs sorted by domain, comma-separated (<c>0-1-42,1-2-7</c>); empty when there are none.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var gtid in _items)
        {
            if (sb.Length > 0) sb.Append(',');
            sb.Append(gtid.ToString());
        }
        return sb.ToString();
    }

    /// <inheritdoc />
    public IEnumerator<MariaDbGtid> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>True when both positions hold the same GTIDs.</summary>
    public bool Equals(MariaDbGtidList? other) =>
        other is not null && (ReferenceEquals(this, other) || _items.SequenceEqual(other._items));

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as MariaDbGtidList);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var gtid in _items) hash.Add(gtid);
        return hash.ToHashCode();
    }

    /// <summary>Index of the domain, or the bitwise complement of where it would be inserted.</summary>
    private int IndexOf(uint domainId)
    {
        for (var i = 0; i < _items.Count; i++)
        {
            var d = _items[i].DomainId;
            if (d == domainId) return i;
            if (d > domainId) return ~i;
        }
        return ~_items.Count;
    }
}
