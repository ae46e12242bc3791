using System.Reflection;
using System.Runtime.Loader;
using PluginHost.Hosting;
using PluginHost.Plugins;
using PluginHost.Sdk;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Plugins;

/// <summary>Loading plugins: third-party DLLs built outside the solution, dependencies, shadow copy, broken plugins.</summary>
[Trait("Category", "Integration")]
public sealed class PluginLoadingTests
{
    [Fact]
    public async Task A_plugin_built_outside_the_solution_loads_with_its_sink_and_helpers()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        Assert.False(File.Exists(Path.Combine(built.SinkV1, "PluginHost.Sdk.dll")), "a user's plugin must not ship the sdk");
        await using var box = new PluginSandbox();
        ThirdPartyPlugins.CopyTo(built.SinkV1, box.PluginFolder("testsink"));

        await box.Manager.LoadAllAsync();

        var status = Assert.Single(box.Manager.Plugins);
        Assert.Equal(PluginState.Loaded, status.State);
        Assert.Null(status.Error);
        Assert.Equal("testsink", status.Name);
        Assert.Equal("1.0.0", status.Version);
        Assert.Equal("ThirdParty.Sink.dll", status.AssemblyFile);
        Assert.Equal(["testsink"], status.SinkTypes);
        Assert.Equal(["ThirdParty.Sink.SinkHelpers"], status.HelperTypes);
        Assert.Equal("plugin testsink 1.0.0", box.Catalog.OriginOf("testsink"));
        Assert.Equal("built-in", box.Catalog.OriginOf("file"));

        // The sdk types are the host's: the factory is an ISinkFactory of the default context.
        var factory = box.Catalog.Find("testsink")!;
        Assert.IsAssignableFrom<ISinkFactory>(factory);
        var context = AssemblyLoadContext.GetLoadContext(factory.GetType().Assembly);
        Assert.IsType<PluginLoadContext>(context);
        Assert.True(context!.IsCollectible);
        Assert.Same(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(typeof(ISink).Assembly));

        var helper = Assert.Single(box.Manager.Current);
        Assert.Equal("testsink", helper.PluginName);
        Assert.Equal(["ThirdParty.Sink.SinkHelpers"], helper.HelperTypes);
        Assert.Equal(File.ReadAllBytes(Path.Combine(built.SinkV1, "ThirdParty.Sink.dll")), helper.Image);
        Assert.Equal("HELLO!", Invoke(helper.Assembly, "ThirdParty.Sink.SinkHelpers", "tShout", "hello"));

        // A sink from it works end to end.
        await using (var sink = box.CreateSink("testsink", """{"type":"testsink","path":"out.txt"}"""))
        {
            await sink.WriteAsync([new ChangeEvent { Table = "t", After = new Row { ["id"] = 7 } }], default);
            await sink.FlushAsync(default);
        }
        var line = Assert.Single(File.ReadAllLines(Path.Combine(box.Root, "out.txt")));
        Assert.Matches(@"^1\.0\.0/[0-9a-f]{8}/1\.0\.0\tt\t7$", line);
    }

    [Fact]
    public async Task Two_plugins_carry_two_versions_of_the_same_dependency()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        await using var box = new PluginSandbox();
        ThirdPartyPlugins.CopyTo(built.SinkV1, box.PluginFolder("testsink"));     // ThirdParty.Lib 1.0.0
        ThirdPartyPlugins.CopyTo(built.Other, box.PluginFolder("ThirdParty.Other")); // ThirdParty.Lib 2.0.0

        await box.Manager.LoadAllAsync();

        Assert.All(box.Manager.Plugins, p => Assert.Equal(PluginState.Loaded, p.State));
        var helpers = box.Manager.Current.ToDictionary(h => h.PluginName);
        Assert.Equal("1.0.0", Invoke(helpers["testsink"].Assembly, "ThirdParty.Sink.SinkHelpers", "tLibVersion"));
        Assert.Equal("2.0.0", Invoke(helpers["ThirdParty.Other"].Assembly, "ThirdParty.Other.OtherHelpers", "tOtherLibVersion"));
        Assert.Equal(["othersink", "testsink"], box.Catalog.Types.Where(t => t != "file").Order());
    }

    [Fact]
    public async Task Loaded_plugins_are_shadow_copies_so_their_files_can_be_replaced_or_deleted()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        await using var box = new PluginSandbox();
        var folder = box.PluginFolder("testsink");
        ThirdPartyPlugins.CopyTo(built.SinkV1, folder);
        await box.Manager.LoadAllAsync();
        var helper = Assert.Single(box.Manager.Current);
        Assert.Equal("", helper.Assembly.Location); // loaded from memory, not from the file

        // Overwrite the DLL with garbage, then delete the whole folder: the loaded copy keeps working.
        File.WriteAllBytes(Path.Combine(folder, "ThirdParty.Sink.dll"), [1, 2, 3]);
        Directory.Delete(folder, recursive: true);
        await using (var sink = box.CreateSink("testsink", """{"type":"testsink","path":"out.txt"}"""))
        {
            await sink.WriteAsync([new ChangeEvent { Table = "t", After = new Row { ["id"] = 1 } }], default);
        }
        Assert.Single(File.ReadAllLines(Path.Combine(box.Root, "out.txt")));
        Assert.Equal("1.0.0", Invoke(helper.Assembly, "ThirdParty.Sink.SinkHelpers", "tLibVersion"));
    }

    [Fact]
    public async Task Native_libraries_resolve_through_the_plugins_deps_json_from_a_shadow_copy()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        await using var box = new PluginSandbox();
        var folder = box.PluginFolder("testsink");
        ThirdPartyPlugins.CopyTo(built.SinkV1, folder);
        NativeTestLibrary.AddTo(folder); // zlib as libpluginnative.so, named in the .deps.json "native" assets

        await box.Manager.LoadAllAsync();
        var helper = Assert.Single(box.Manager.Current);
        var version = (string?)Invoke(helper.Assembly, "ThirdParty.Sink.SinkHelpers", "tNativeVersion");
        Assert.Matches(@"^\d+\.\d+", version);

        // It was loaded from a copy under the shadow directory, not from the plugin folder.
        var copies = Directory.GetFiles(box.Manager.ShadowDirectory, "libpluginnative.so", SearchOption.AllDirectories);
        Assert.Single(copies);
        Assert.Contains($"{Environment.ProcessId}-testsink-", copies[0]);
        Directory.Delete(folder, recursive: true);
        Assert.Equal(version, Invoke(helper.Assembly, "ThirdParty.Sink.SinkHelpers", "tNativeVersion"));
    }

    [Fact]
    public async Task Broken_plugins_are_statuses_with_clear_errors_and_the_others_still_load()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        await using var box = new PluginSandbox();
        ThirdPartyPlugins.CopyTo(built.SinkV1, box.PluginFolder("good"));
        ThirdPartyPlugins.CopyTo(built.SinkBroken, box.PluginFolder("throws"));
        ThirdPartyPlugins.CopyTo(built.Other, box.PluginFolder("nolib"), include: f => !f.StartsWith("ThirdParty.Lib.", StringComparison.Ordinal));
        ThirdPartyPlugins.CopyTo(built.Other, box.PluginFolder("garbage"));
        File.WriteAllText(Path.Combine(box.PluginFolder("garbage"), "ThirdParty.Other.dll"), "this is not an assembly");
        Directory.CreateDirectory(box.PluginFolder("empty"));
        File.WriteAllText(Path.Combine(box.PluginFolder("empty"), "README.txt"), "nothing here");
        ThirdPartyPlugins.CopyTo(built.SinkV2, box.PluginFolder("zclash")); // sink type testsink again

        await box.Manager.LoadAllAsync();

        var byName = box.Manager.Plugins.ToDictionary(p => p.Name);
        Assert.Equal(["empty", "garbage", "good", "nolib", "throws", "zclash"], byName.Keys.Order());
        Assert.Equal(PluginState.Loaded, byName["good"].State);
        Assert.Equal("plugin good 1.0.0", box.Catalog.OriginOf("testsink"));

        AssertFailed(byName["throws"], "sink factory ThirdParty.Sink.TestSinkFactory threw in its constructor", "broken on purpose");
        AssertFailed(byName["nolib"], "missing dependency ThirdParty.Lib 2.0.0.0", "referenced by ThirdParty.Other");
        AssertFailed(byName["garbage"], "ThirdParty.Other.dll is not a valid .NET assembly");
        AssertFailed(byName["empty"], "no .dll in");
        AssertFailed(byName["zclash"], "sink type 'testsink' is already provided by plugin good 1.0.0");
        Assert.Null(box.Catalog.Find("othersink"));
        Assert.Equal(["good"], box.Manager.Current.Select(h => h.PluginName));

        static void AssertFailed(PluginStatus status, params string[] parts)
        {
            Assert.Equal(PluginState.Failed, status.State);
            Assert.Null(status.Version);
            Assert.Empty(status.SinkTypes);
            Assert.NotNull(status.Error);
            foreach (var part in parts) Assert.Contains(part, status.Error);
        }
    }

    [Fact]
    public void The_main_dll_rule_prefers_the_folder_name_then_the_deps_json_then_the_sdk_reference()
    {
        var root = Path.Combine(Path.GetTempPath(), "pluginhost-rule-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var sdkBytes = File.ReadAllBytes(typeof(ISink).Assembly.Location);
            var referencing = File.ReadAllBytes(typeof(PluginHostServiceCollectionExtensions).Assembly.Location); // references the sdk
            var plain = File.ReadAllBytes(typeof(Xunit.FactAttribute).Assembly.Location);

            var byName = Folder("Foo", ("Foo.dll", plain), ("Bar.dll", referencing), ("Bar.deps.json", "{}"u8.ToArray()));
            Assert.Equal("Foo.dll", Path.GetFileName(PluginFolder.FindMainAssembly(byName)));

            var byDeps = Folder("Webhook", ("PluginHost.Plugins.Webhook.dll", plain), ("PluginHost.Plugins.Webhook.deps.json", "{}"u8.ToArray()), ("RestSharp.dll", referencing));
            Assert.Equal("PluginHost.Plugins.Webhook.dll", Path.GetFileName(PluginFolder.FindMainAssembly(byDeps)));

            var bySdk = Folder("Mine", ("Dep.dll", plain), ("Main.dll", referencing), ("PluginHost.Sdk.dll", sdkBytes));
            Assert.Equal("Main.dll", Path.GetFileName(PluginFolder.FindMainAssembly(bySdk)));

            var ambiguous = Folder("Two", ("A.dll", plain), ("A.deps.json", "{}"u8.ToArray()), ("B.dll", plain), ("B.deps.json", "{}"u8.ToArray()));
            Assert.Contains("several DLLs have a .deps.json (A.dll, B.dll)", Assert.Throws<PluginLoadException>(() => PluginFolder.FindMainAssembly(ambiguous)).Message);

            var none = Folder("None", ("A.dll", plain));
            Assert.Contains("expected None.dll", Assert.Throws<PluginLoadException>(() => PluginFolder.FindMainAssembly(none)).Message);

            Assert.Equal(["Foo", "Mine", "None", "Two", "Webhook"], PluginFolder.List(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }

        string Folder(string name, params (string File, byte[] Bytes)[] files)
        {
            var dir = Path.Combine(root, name);
            Directory.CreateDirectory(dir);
            foreach (var (file, bytes) in files) File.WriteAllBytes(Path.Combine(dir, file), bytes);
            return dir;
        }
    }

    internal static object? Invoke(Assembly assembly, string type, string method, params object?[] args) =>
        assembly.GetType(type, throwOnError: true)!.GetMethod(method, BindingFlags.Public | BindingFlags.Static)!.Invoke(null, args);
}
