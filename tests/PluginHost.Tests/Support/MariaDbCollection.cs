namespace PluginHost.Tests.Support;

/// <summary>One MariaDB for the whole test run, shared by every class in the collection.</summary>
[CollectionDefinition(Name)]
public sealed class MariaDbCollection : ICollectionFixture<MariaDbServer>
{
    public const string Name = "MariaDB";
}
