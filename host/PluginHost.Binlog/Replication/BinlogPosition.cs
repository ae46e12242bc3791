namespace PluginHost.Binlog.Replication;

/// <summary>
/// A place in the binlog: file and offset, and the GTID state there (MariaDB GTID list or MySQL GTID set text)
/// when known. Positions taken at transaction ends are safe resume points.
/// </summary>
public sealed record BinlogPosition(string File, long Position, string? Gtid = null)
{
    /// <summary>Orders by file name (binlog files are numbered) then offset.</summary>
    public int CompareFileOffset(string file, long position)
    {
        var c = string.CompareOrdinal(File, file);
        return c != 0 ? c : Position.CompareTo(position);
    }

    public override string ToString() => PositionText.Format(File, Position, Gtid);
}
