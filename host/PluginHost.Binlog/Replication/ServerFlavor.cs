namespace PluginHost.Binlog.Replication;

/// <summary>Which family of server the client talks to.</summary>
public enum ServerFlavor
{
    MySql,
    MariaDb,
}
