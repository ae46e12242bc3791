namespace PluginHost.Tests.Support;

/// <summary>
/// A second MariaDB for a second chain of integration classes (snapshots, Kafka, cluster, templates, JavaScript
/// pipelines, character sets), run beside the first chain: both spend most of their time waiting on servers,
/// processes and brokers, not on the CPU, and one chain alone took over 12 minutes.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SecondMariaDbCollection : ICollectionFixture<MariaDbServer>
{
    public const string Name = "MariaDB 2";
}
