using System.Globalization;

namespace PluginHost.Binlog.Gtid;

/// <summary>A MariaDB GTID <c>domain-server-sequence</c>, e.g. <c>0-1-42</c>.</summary>
/// <param name="DomainId">Replication domain.</param>
/// <param name="ServerId">Server id of the server that wrote the transaction.</param>
/// <param name="Sequence">Sequence number within the domain.</param>
public readonly record struct MariaDbGtid(uint DomainId, uint ServerId, ulong Sequence)
{
    /// <summary>Parses <c>domain-server-sequence</c> (decimal numbers; surrounding whitespace ignored).</summary>
    /// <exception cref="FormatException">The text is not a MariaDB GTID; the message names the bad part.</exception>
    public static MariaDbGtid Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Parse(text.AsSpan(), text);
    }

    /// <summary>Parses like <see cref="Parse(string)"/>, returning false instead of throwing.</summary>
    public static bool TryParse(string? text, out MariaDbGtid gtid)
    {
        gtid = default;
        if (text is null) return false;
        try
        {
            gtid = Parse(text.AsSpan(), text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    internal static MariaDbGtid Parse(ReadOnlySpan<char> s, string whole)
    {
        s = s.Trim();
        var first = s.IndexOf('-');
        var second = first < 0 ? -1 : s[(first + 1)..].IndexOf('-');
        if (first < 0 || second < 0)
            throw new FormatException($"'{s}' in '{whole.Trim()}' is not a MariaDB GTID: expected domain-server-sequence");
        second += first + 1;
        var domain = Number(s[..first], "domain id", uint.MaxValue, s, whole);
        var server = Number(s[(first + 1)..second], "server id", uint.MaxValue, s, whole);
        var sequence = Number(s[(second + 1)..], "sequence number", ulong.MaxValue, s, whole);
        return new MariaDbGtid((uint)domain, (uint)server, sequence);
    }

    private static ulong Number(ReadOnlySpan<char> part, string what, ulong max, ReadOnlySpan<char> gtid, string whole)
    {
        if (part.IsEmpty || !ulong.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > max)
            throw new FormatException($"{what} '{part}' of '{gtid}' in '{whole.Trim()}' is not a number between 0 and {max}");
        return value;
    }

    /// <summary><c>domain-server-sequence</c>.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{DomainId}-{ServerId}-{Sequence}");
}
