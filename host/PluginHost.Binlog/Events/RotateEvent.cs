namespace PluginHost.Binlog.Events;

/// <summary>ROTATE_EVENT: the stream continues in <see cref="NextFile"/> at <see cref="NextFilePosition"/>.</summary>
public sealed class RotateEvent(BinlogEventHeader header, ulong position, string nextFile) : BinlogEvent(header)
{
    public ulong NextFilePosition { get; } = position;
    public string NextFile { get; } = nextFile;

    /// <summary>True for the fake rotate a server sends at the start of a dump (timestamp 0).</summary>
    public bool IsArtificial => Header.Timestamp == 0 || Header.NextPosition == 0;
}
