namespace PluginHost.Binlog.Events;

/// <summary>FORMAT_DESCRIPTION_EVENT: the first event of every binlog, saying how the others are laid out.</summary>
public sealed class FormatDescriptionEvent : BinlogEvent
{
    public FormatDescriptionEvent(BinlogEventHeader header, ushort binlogVersion, string serverVersion, uint createTimestamp,
        byte headerLength, byte[] postHeaderLengths, ChecksumAlgorithm checksum) : base(header)
    {
        BinlogVersion = binlogVersion;
        ServerVersion = serverVersion;
        CreateTimestamp = createTimestamp;
        HeaderLength = headerLength;
        PostHeaderLengths = postHeaderLengths;
        Checksum = checksum;
    }

    public ushort BinlogVersion { get; }
    public string ServerVersion { get; }
    public uint CreateTimestamp { get; }
    public byte HeaderLength { get; }

    /// <summary>Post-header length per event type; index is type code − 1.</summary>
    public byte[] PostHeaderLengths { get; }

    /// <summary>Checksum algorithm of the events that follow.</summary>
    public ChecksumAlgorithm Checksum { get; }

    /// <summary>True when the server is MariaDB.</summary>
    public bool IsMariaDb => ServerVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase);

    /// <summary>Post-header length of an event type, or <paramref name="fallback"/> when unknown.</summary>
    public int PostHeaderLength(BinlogEventType type, int fallback)
    {
        var i = (int)type - 1;
        return i >= 0 && i < PostHeaderLengths.Length ? PostHeaderLengths[i] : fallback;
    }
}
