namespace PluginHost.Binlog.Replication;

/// <summary>Where a replication stream starts when no checkpoint exists.</summary>
public abstract record BinlogStart
{
    private BinlogStart() { }

    /// <summary>The server's current end of binlog: only changes made from now on.</summary>
    public static BinlogStart Latest { get; } = new LatestStart();

    /// <summary>The oldest binlog file the server still has.</summary>
    public static BinlogStart Earliest { get; } = new EarliestStart();

    /// <summary>A binlog file and position (the position must be an event boundary, e.g. 4).</summary>
    public static BinlogStart At(string file, long position) => new FileStart(file, position);

    /// <summary>A GTID position: MariaDB <c>0-1-42[,…]</c> or a MySQL GTID set <c>uuid:1-42[,…]</c> (the transactions already seen).</summary>
    public static BinlogStart AtGtid(string gtid) => new GtidStart(gtid);

    public sealed record LatestStart : BinlogStart
    {
        public override string ToString() => "latest";
    }

    public sealed record EarliestStart : BinlogStart
    {
        public override string ToString() => "earliest";
    }

    public sealed record FileStart(string File, long Position) : BinlogStart
    {
        public override string ToString() => $"{File}:{Position}";
    }

    public sealed record GtidStart(string Gtid) : BinlogStart
    {
        public override string ToString() => $"GTID {Gtid}";
    }
}
