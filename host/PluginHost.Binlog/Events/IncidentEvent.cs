namespace PluginHost.Binlog.Events;

/// <summary>INCIDENT_EVENT: the source server reports that changes may be missing from the binlog here.</summary>
public sealed class IncidentEvent(BinlogEventHeader header, ushort incidentType, string message) : BinlogEvent(header)
{
    public ushort IncidentType { get; } = incidentType;
    public string Message { get; } = message;
}
