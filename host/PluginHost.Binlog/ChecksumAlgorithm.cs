namespace PluginHost.Binlog;

/// <summary>Binlog event checksum algorithm, as announced by the format description event.</summary>
public enum ChecksumAlgorithm : byte
{
    Off = 0,
    Crc32 = 1,
    Undefined = 255,
}
