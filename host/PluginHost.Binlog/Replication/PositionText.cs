namespace PluginHost.Binlog.Replication;

/// <summary>
/// The one way a binlog position is written for people (log lines, the REST API's <c>position.text</c>, the
/// dashboard): <c>mysql-bin.000003:1234 (GTID 0-1-42)</c>, <c>mysql-bin.000003:1234</c> when no GTID is known, and
/// <c>GTID 0-1-42</c> when only the GTID is (after a seek to a GTID, until the first transaction is checkpointed).
/// </summary>
public static class PositionText
{
    /// <summary>Formats a position; an empty file or GTID counts as unknown.</summary>
    public static string Format(string? file, long position, string? gtid)
    {
        var hasFile = !string.IsNullOrEmpty(file);
        var hasGtid = !string.IsNullOrWhiteSpace(gtid);
        return (hasFile, hasGtid) switch
        {
            (true, true) => $"{file}:{position} (GTID {gtid})",
            (true, false) => $"{file}:{position}",
            (false, true) => $"GTID {gtid}",
            _ => "(no position)",
        };
    }
}
