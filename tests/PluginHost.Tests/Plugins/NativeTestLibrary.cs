namespace PluginHost.Tests.Plugins;

/// <summary>zlib, shipped inside a test plugin as its own native library <c>libpluginnative.so</c> (what <c>tNativeVersion</c> calls).</summary>
internal static class NativeTestLibrary
{
    /// <summary>Copies zlib into <paramref name="folder"/> and names it in the <c>ThirdParty.Sink.deps.json</c> "native" assets, as a build output does.</summary>
    public static void AddTo(string folder)
    {
        var zlib = new[] { "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1", "/usr/lib/libz.so.1" }
            .FirstOrDefault(File.Exists);
        Assert.True(zlib != null, "zlib (zlib1g, installed by scripts/setup.sh) is needed as the stand-in native library");
        const string native = "libpluginnative.so";
        File.Copy(zlib!, Path.Combine(folder, native), overwrite: true);
        var depsPath = Path.Combine(folder, "ThirdParty.Sink.deps.json");
        var deps = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(depsPath))!;
        var target = deps["targets"]!.AsObject().First().Value!.AsObject();
        var self = target.First(kv => kv.Key.StartsWith("ThirdParty.Sink/", StringComparison.Ordinal)).Value!.AsObject();
        self["native"] = new System.Text.Json.Nodes.JsonObject { [native] = new System.Text.Json.Nodes.JsonObject() };
        File.WriteAllText(depsPath, deps.ToJsonString());
    }
}
