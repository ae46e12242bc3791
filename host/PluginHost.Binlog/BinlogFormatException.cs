namespace PluginHost.Binlog;

/// <summary>A binlog event that cannot be decoded: truncated, corrupt, or failing its checksum.</summary>
public class BinlogFormatException : Exception
{
    public BinlogFormatException(string message) : base(message) { }
    public BinlogFormatException(string message, Exception inner) : base(message, inner) { }
}
