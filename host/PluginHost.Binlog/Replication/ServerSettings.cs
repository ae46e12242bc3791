namespace PluginHost.Binlog.Replication;

/// <summary>What the client learned about the server at connect time.</summary>
public sealed record ServerSettings(
    ServerFlavor Flavor, string Version, ChecksumAlgorithm Checksum, string RowImage, string? RowMetadata, bool GtidMode);
