namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>What a replay through the schema-aware decoder saw.</summary>
internal sealed class ReplayStats
{
    public int Maps, MapsWithoutNames, SchemaApplied, Rows;
    public long MissingSeen;
    public override string ToString() => $"{Rows} rows, {Maps} table maps ({MapsWithoutNames} without names, schema applied {SchemaApplied}×), {MissingSeen} missing values";
}
