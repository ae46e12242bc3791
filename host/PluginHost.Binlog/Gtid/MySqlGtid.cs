using System.Globalization;

namespace PluginHost.Binlog.Gtid;

/// <summary>
/// One MySQL GTID: the UUID of the server where the transaction originated and its transaction number,
/// written <c>3e11fa47-71ca-11e1-9e33-c80aa9429562:23</c>.
/// </summary>
/// <remarks>MySQL 8.3+ tagged GTIDs (<c>uuid:tag:23</c>) are not supported.</remarks>
public readonly record struct MySqlGtid
{
    /// <summary>Largest transaction number accepted (2^63 - 2, so that the exclusive interval end fits an int64).</summary>
    public const long MaxTransactionId = long.MaxValue - 1;

    /// <summary>Creates a GTID.</summary>
    /// <param name="serverUuid">The originating server's UUID.</param>
    /// <param name="transactionId">The transaction number, 1 … <see cref="MaxTransactionId"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The transaction number is out of range.</exception>
    public MySqlGtid(Guid serverUuid, long transactionId)
    {
        if (transactionId < 1 || transactionId > MaxTransactionId)
            throw new ArgumentOutOfRangeException(nameof(transactionId), transactionId, $"GTID transaction number must be between 1 and {MaxTransactionId}");
        ServerUuid = serverUuid;
        TransactionId = transactionId;
    }

    /// <summary>The originating server's UUID.</summary>
    public Guid ServerUuid { get; }

    /// <summary>The transaction number (GNO), starting at 1.</summary>
    public long TransactionId { get; }

    /// <summary>Builds a GTID from the 16 UUID bytes as they appear on the wire (text order) and a transaction number.</summary>
    /// <param name="uuidBytes">At least 16 bytes; the first 16 are used.</param>
    /// <param name="transactionId">The transaction number.</param>
    public static MySqlGtid FromBytes(ReadOnlySpan<byte> uuidBytes, long transactionId) =>
        new(MySqlGtidSet.ReadUuid(uuidBytes), transactionId);

    /// <summary>Parses <c>uuid:number</c> (whitespace around the parts is ignored, the UUID is case-insensitive).</summary>
    /// <exception cref="FormatException">The text is not a GTID; the message names the bad part.</exception>
    public static MySqlGtid Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':');
        if (colon < 0)
            throw new FormatException($"'{text}' is not a MySQL GTID: expected 'uuid:number'");
        var uuid = MySqlGtidSet.ParseUuid(text.AsSpan(0, colon).Trim(), text);
        var number = text.AsSpan(colon + 1).Trim();
        if (number.Contains(':'))
            throw new FormatException($"'{text}' is not a MySQL GTID: expected one ':' (tagged GTIDs are not supported)");
        return new MySqlGtid(uuid, MySqlGtidSet.ParseTransactionId(number, text));
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

    /// <summary><c>uuid:number</c> with the UUID in lowercase.</summary>
    public override string ToString() =>
        ServerUuid.ToString("D") + ":" + TransactionId.ToString(CultureInfo.InvariantCulture);
}
