using System.Globalization;

namespace PluginHost.Binlog.Gtid;

/// <summary>
/// One MySQL GTID: the UUID of the server where the transaction originated, its tag (MySQL 8.3+; "" when untagged) and
/// its transaction number, written <c>3e11fa47-71ca-11e1-9e33-c80aa9429562:23</c> or <c>3e11fa47-…-c80aa9429562:etl:23</c>.
/// </summary>
public readonly record struct MySqlGtid
{
    /// <summary>Largest transaction number accepted (2^63 - 2, so that the exclusive interval end fits an int64).</summary>
    public const long MaxTransactionId = long.MaxValue - 1;

    /// <summary>Longest GTID tag (MySQL's tag_max_length).</summary>
    public const int MaxTagLength = 32;

    private readonly string? _tag;

    /// <summary>Creates a GTID.</summary>
    /// <param name="serverUuid">The originating server's UUID.</param>
    /// <param name="transactionId">The transaction number, 1 … <see cref="MaxTransactionId"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The transaction number is out of range.</exception>
    public MySqlGtid(Guid serverUuid, long transactionId)
        : this(serverUuid, "", transactionId)
    {
    }

    /// <summary>Creates a GTID with a tag.</summary>
    /// <param name="serverUuid">The originating server's UUID.</param>
    /// <param name="tag">The tag ("" for none); kept in lowercase.</param>
    /// <param name="transactionId">The transaction number, 1 … <see cref="MaxTransactionId"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The transaction number is out of range.</exception>
    /// <exception cref="ArgumentException">The tag is not a valid GTID tag.</exception>
    public MySqlGtid(Guid serverUuid, string tag, long transactionId)
    {
        if (transactionId < 1 || transactionId > MaxTransactionId)
            throw new ArgumentOutOfRangeException(nameof(transactionId), transactionId, $"GTID transaction number must be between 1 and {MaxTransactionId}");
        ServerUuid = serverUuid;
        _tag = NormalizeTag(tag);
        TransactionId = transactionId;
    }

    /// <summary>The originating server's UUID.</summary>
    public Guid ServerUuid { get; }

    /// <summary>The tag in lowercase, or "" for an untagged GTID.</summary>
    public string Tag => _tag ?? "";

    /// <summary>The transaction number (GNO), starting at 1.</summary>
    public long TransactionId { get; }

    /// <summary>True for a valid tag: a letter or '_', then up to 31 letters, digits or '_' (ASCII, any case).</summary>
    public static bool IsValidTag(ReadOnlySpan<char> tag)
    {
        if (tag.IsEmpty || tag.Length > MaxTagLength || !(char.IsAsciiLetter(tag[0]) || tag[0] == '_')) return false;
        foreach (var c in tag)
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) return false;
        return true;
    }

    /// <summary>The tag in lowercase ("" stays ""). </summary>
    /// <exception cref="ArgumentException">The tag is not valid (<see cref="IsValidTag"/>).</exception>
    internal static string NormalizeTag(string tag)
    {
        if (tag.Length == 0) return "";
        if (!IsValidTag(tag)) throw new ArgumentException($"'{tag}' is not a GTID tag (a letter or '_', then up to 31 letters, digits or '_')", nameof(tag));
        foreach (var c in tag)
            if (char.IsAsciiLetterUpper(c)) return tag.ToLowerInvariant();
        return tag;
    }

    /// <summary>Builds a GTID from the 16 UUID bytes as they appear on the wire (text order) and a transaction number.</summary>
    /// <param name="uuidBytes">At least 16 bytes; the first 16 are used.</param>
    /// <param name="transactionId">The transaction number.</param>
    public static MySqlGtid FromBytes(ReadOnlySpan<byte> uuidBytes, long transactionId) =>
        new(MySqlGtidSet.ReadUuid(uuidBytes), transactionId);

    /// <summary>Parses <c>uuid:number</c> or <c>uuid:tag:number</c> (whitespace around the parts is ignored, the UUID and
    /// tag are case-insensitive).</summary>
    /// <exception cref="FormatException">The text is not a GTID; the message names the bad part.</exception>
    public static MySqlGtid Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':');
        if (colon < 0)
            throw new FormatException($"'{text}' is not a MySQL GTID: expected 'uuid:number' or 'uuid:tag:number'");
        var uuid = MySqlGtidSet.ParseUuid(text.AsSpan(0, colon).Trim(), text);
        var rest = text.AsSpan(colon + 1).Trim();
        var tag = "";
        var second = rest.IndexOf(':');
        if (second >= 0)
        {
            tag = MySqlGtidSet.ParseTag(rest[..second].Trim(), text);
            rest = rest[(second + 1)..].Trim();
            if (rest.Contains(':'))
                throw new FormatException($"'{text}' is not a MySQL GTID: expected 'uuid:number' or 'uuid:tag:number'");
        }
        return new MySqlGtid(uuid, tag, MySqlGtidSet.ParseTransactionId(rest, text));
    }

    /// <summary>Parses like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse(string? text, out MySqlGtid gtid)
    {
        gtid = default;
        if (text is null) return false;
        try
        {
            gtid = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary><c>uuid:number</c> or <c>uuid:tag:number</c> with the UUID in lowercase.</summary>
    public override string ToString() =>
        ServerUuid.ToString("D") + (Tag.Length > 0 ? ":" + Tag : "") + ":" + TransactionId.ToString(CultureInfo.InvariantCulture);
}
