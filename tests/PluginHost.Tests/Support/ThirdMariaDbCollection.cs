namespace PluginHost.Tests.Support;

/// <summary>
/// A third MariaDB for a third chain: the longest integration classes, which mostly wait (Kafka session timeouts,
/// killed and restarted host processes), run beside the other two chains instead of after the second's other classes.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ThirdMariaDbCollection : ICollectionFixture<MariaDbServer>
{
    public const string Name = "MariaDB 3";
}
