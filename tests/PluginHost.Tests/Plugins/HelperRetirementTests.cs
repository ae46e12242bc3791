using System.Runtime.CompilerServices;
using PluginHost.Plugins;
using PluginHost.Scripting;
using PluginHost.Sdk;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Plugins;

/// <summary>
/// A reloaded helper plugin's old version stays loaded while a compiled transform version that uses it is still
/// alive (the pipeline switches to the recompiled script only at its next transaction boundary), and is unloaded and
/// collected once that transform version is gone.
/// </summary>
[Collection(ManagedMemoryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class HelperRetirementTests
{
    private const string Script = """
        ChangeEvent Transform(ChangeEvent e)
        {
            e.After!["native"] = tNativeVersion();
            e.After["shout"] = tShout("hi");
            return e;
        }
        """;

    [Fact]
    public async Task An_old_helper_version_stays_loaded_while_a_transform_uses_it_and_goes_after()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        await using var box = new PluginSandbox();
        var folder = box.PluginFolder("testsink");
        ThirdPartyPlugins.CopyTo(built.SinkV1, folder);
        NativeTestLibrary.AddTo(folder);
        await box.Manager.LoadAllAsync();
        var oldContext = box.Manager.WeakContextOf("testsink")!;
        // Compiled against version 1 and not run yet: its native library is loaded at the first call.
        var transform = Compile(box.Manager);

        var status = await box.Manager.ReloadAsync("testsink");
        Assert.Equal((PluginState.Loaded, 2, null), (status!.State, status.Loads, status.Error));
        for (var i = 0; i < 3; i++) // collections meanwhile must not unload it either
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        await Task.Delay(200);
        Assert.Equal([("testsink", 1, false)], box.Manager.PendingUnloadDetails());
        Assert.True(oldContext.IsAlive);

        // The old transform version still runs on the old helper version, whose native library loads now.
        var output = new List<ChangeEvent>();
        transform.Apply(new ChangeEvent { Table = "t", After = new Row { ["id"] = 1 } }, output);
        Assert.Matches(@"^\d+\.\d+", (string)Assert.Single(output).After!["native"]!);
        Assert.Equal("HI!", output[0].After!["shout"]);
        Assert.Equal(1, box.Manager.Find("testsink")!.PendingUnloads);

        // The pipeline switched to a recompiled version: the old one unloads, and with it the old helper version.
        transform.Unload();
        transform = null!;
        Assert.True(UnloadTests.CollectUntil(() => !oldContext.IsAlive),
            $"the old helper context is still alive: {string.Join(", ", box.Manager.PendingUnloadDetails())}");
        Assert.Equal(0, box.Manager.Find("testsink")!.PendingUnloads);
        Assert.Empty(box.Manager.PendingUnloadDetails());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static CompiledTransform Compile(PluginManager helpers)
    {
        var build = ScriptCompiler.Compile("helpers.csx", Script, helpers.Current);
        Assert.True(build.Success, string.Join("\n", build.Diagnostics));
        var transform = CompiledTransform.Load(build, TimeSpan.FromSeconds(5));
        Assert.Equal(["testsink"], transform.UsedHelpers.Select(h => h.PluginName));
        return transform;
    }
}
