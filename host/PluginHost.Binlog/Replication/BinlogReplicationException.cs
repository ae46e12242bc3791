namespace PluginHost.Binlog.Replication;

/// <summary>The server cannot be replicated from as configured (binlog off, not ROW, missing privileges…); the message says what to fix.</summary>
public sealed class BinlogReplicationException : Exception
{
    public BinlogReplicationException(string message, Exception? inner = null) : base(message, inner) { }
}
