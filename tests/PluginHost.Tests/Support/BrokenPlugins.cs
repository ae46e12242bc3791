namespace PluginHost.Tests.Support;

/// <summary>Three broken plugin folders, each failing for another reason, and the text their error must contain.</summary>
internal static class BrokenPlugins
{
    public static readonly IReadOnlyList<(string Name, string Reason)> Reasons =
    [
        ("garbage", "garbage.dll is not a valid .NET assembly"),
        ("nodependency", "ThirdParty.Lib"),
        ("thrower", "sink factory ThirdParty.Sink.TestSinkFactory threw in its constructor: InvalidOperationException: broken on purpose"),
    ];

    /// <summary>Creates the folders under <paramref name="pluginsDirectory"/>.</summary>
    public static void Create(ThirdPartyPlugins built, string pluginsDirectory)
    {
        Directory.CreateDirectory(Path.Combine(pluginsDirectory, "garbage"));
        File.WriteAllText(Path.Combine(pluginsDirectory, "garbage", "garbage.dll"), "not an assembly");
        // Version 1.0.0 without its dependency ThirdParty.Lib.dll.
        ThirdPartyPlugins.CopyTo(built.SinkV1, Path.Combine(pluginsDirectory, "nodependency"), include: f => !f.StartsWith("ThirdParty.Lib.", StringComparison.Ordinal));
        ThirdPartyPlugins.CopyTo(built.SinkBroken, Path.Combine(pluginsDirectory, "thrower"));
    }
}
