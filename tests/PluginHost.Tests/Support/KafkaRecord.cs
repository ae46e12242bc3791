using System.Text;

namespace PluginHost.Tests.Support;

/// <summary>One record read back from the mock cluster.</summary>
public sealed record KafkaRecord(string Topic, int Partition, long Offset, byte[]? KeyBytes, byte[]? ValueBytes, Dictionary<string, string> Headers)
{
    public string? Key => KeyBytes is null ? null : Encoding.UTF8.GetString(KeyBytes);
    public string? Value => ValueBytes is null ? null : Encoding.UTF8.GetString(ValueBytes);
}
