using PluginHost.Binlog.Replication;

namespace PluginHost.Control;

/// <summary>What a seek names.</summary>
internal enum SeekKind
{
    /// <summary>The server's current end (resolved when the seek runs).</summary>
    Latest,

    /// <summary>The start of the server's oldest binlog.</summary>
    Earliest,

    /// <summary>A GTID (MariaDB list or MySQL set).</summary>
    Gtid,

    /// <summary>A binlog file and offset.</summary>
    Position,

    /// <summary>An entry of the pipeline's checkpoint history.</summary>
    Checkpoint,
}

/// <summary>Where a seek moves a pipeline (<see cref="SeekKind.Checkpoint"/>: an entry of its history, by <paramref name="Id"/>).</summary>
internal sealed record SeekTarget(SeekKind Kind, string? File = null, long Position = 0, string? Gtid = null, long Id = 0)
{
    public override string ToString() => Kind switch
    {
        SeekKind.Checkpoint => $"checkpoint {Id}",
        SeekKind.Gtid or SeekKind.Position => PositionText.Format(File, Position, Gtid),
        SeekKind.Latest => "latest",
        _ => "earliest",
    };
}
