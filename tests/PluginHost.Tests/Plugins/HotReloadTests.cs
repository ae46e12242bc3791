using System.Collections.Concurrent;
using PluginHost.Plugins;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Plugins;

/// <summary>The watcher: debounced reloads, rejected versions, helper changes, removal.</summary>
[Trait("Category", "Integration")]
public sealed class HotReloadTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Copying_a_new_version_file_by_file_is_one_reload()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        // A quiet period far above the 50 ms between files: a CI run at load 13 paused the copy for over 300 ms.
        await using var box = new PluginSandbox(watch: true, debounce: TimeSpan.FromMilliseconds(1200));
        ThirdPartyPlugins.CopyTo(built.SinkV1, box.PluginFolder("testsink"));
        var events = new ConcurrentQueue<PluginStatus>();
        var helperChanges = 0;
        box.Manager.StatusChanged += events.Enqueue;
        box.Manager.Changed += () => Interlocked.Increment(ref helperChanges);
        await box.Manager.StartAsync(default);
        Assert.Equal("1.0.0", box.Manager.Find("testsink")!.Version);
        events.Clear();
        helperChanges = 0;
        var before = box.Manager.Current.Single();

        // Several files, 50 ms apart: shorter than the quiet period, so one reload once the copy is complete.
        ThirdPartyPlugins.CopyTo(built.SinkV2, box.PluginFolder("testsink"), TimeSpan.FromMilliseconds(50));

        await Wait.UntilAsync(() => box.Manager.Find("testsink")?.Version == "2.0.0", Timeout, "version 2.0.0");
        await Task.Delay(1500); // nothing else may follow
        var reload = Assert.Single(events);
        Assert.Equal(PluginState.Loaded, reload.State);
        Assert.Equal("2.0.0", reload.Version);
        Assert.Equal(2, reload.Loads);
        Assert.Null(reload.Error);
        Assert.Equal(1, helperChanges);
        Assert.Equal("plugin testsink 2.0.0", box.Catalog.OriginOf("testsink"));
        var after = box.Manager.Current.Single();
        Assert.NotSame(before.Assembly, after.Assembly);
        Assert.NotEqual(before.Version, after.Version);
        Assert.Equal("2.0.0", PluginLoadingTests.Invoke(after.Assembly, "ThirdParty.Sink.SinkHelpers", "tLibVersion"));
    }

    [Fact]
    public async Task A_broken_new_version_is_rejected_and_the_old_one_keeps_running()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        await using var box = new PluginSandbox(watch: true, debounce: TimeSpan.FromMilliseconds(200));
        var folder = box.PluginFolder("testsink");
        ThirdPartyPlugins.CopyTo(built.SinkV1, folder);
        await box.Manager.StartAsync(default);
        var factory = box.Catalog.Find("testsink");
        Assert.NotNull(factory);

        // 1. factory throws in its constructor
        ThirdPartyPlugins.CopyTo(built.SinkBroken, folder);
        await Wait.UntilAsync(() => box.Manager.Find("testsink")?.Error != null, Timeout, "the broken version to be rejected");
        var status = box.Manager.Find("testsink")!;
        Assert.Equal(PluginState.Loaded, status.State);
        Assert.Equal("1.0.0", status.Version);
        Assert.Contains("threw in its constructor", status.Error);
        Assert.Same(factory, box.Catalog.Find("testsink"));
        await using (var sink = box.CreateSink("testsink", """{"type":"testsink","path":"out.txt"}""")) { }

        // 2. not an assembly at all
        File.WriteAllText(Path.Combine(folder, "ThirdParty.Sink.dll"), "garbage");
        await Wait.UntilAsync(() => box.Manager.Find("testsink")?.Error?.Contains("not a valid .NET assembly") == true, Timeout, "the garbage DLL to be rejected");
        Assert.Equal("1.0.0", box.Manager.Find("testsink")!.Version);
        Assert.Same(factory, box.Catalog.Find("testsink"));

        // 3. a good version again: loads, and the error is gone
        ThirdPartyPlugins.CopyTo(built.SinkV2, folder);
        await Wait.UntilAsync(() => box.Manager.Find("testsink")?.Version == "2.0.0", Timeout, "version 2.0.0");
        Assert.Null(box.Manager.Find("testsink")!.Error);
        Assert.NotSame(factory, box.Catalog.Find("testsink"));
    }

    [Fact]
    public async Task A_new_version_missing_a_dependency_is_rejected_and_the_old_one_keeps_running()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        await using var box = new PluginSandbox(watch: true, debounce: TimeSpan.FromMilliseconds(300));
        var folder = box.PluginFolder("testsink");
        ThirdPartyPlugins.CopyTo(built.SinkV1, folder);
        await box.Manager.StartAsync(default);
        var factory = box.Catalog.Find("testsink");
        var helper = box.Manager.Current.Single();

        // Version 2.0.0 without its ThirdParty.Lib.dll: the old 1.0.0 copy is deleted, the new one never arrives.
        File.Delete(Path.Combine(folder, "ThirdParty.Lib.dll"));
        ThirdPartyPlugins.CopyTo(built.SinkV2, folder, include: f => !f.StartsWith("ThirdParty.Lib.", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(folder, "ThirdParty.Lib.dll")));

        await Wait.UntilAsync(() => box.Manager.Find("testsink")?.Error != null, Timeout, "the version without its dependency to be rejected");
        await Task.Delay(700); // the debounced copy is settled: no later load may sneak in
        var status = box.Manager.Find("testsink")!;
        Assert.Contains("ThirdParty.Lib", status.Error);
        Assert.Equal((PluginState.Loaded, "1.0.0", 1), (status.State, status.Version, status.Loads));
        Assert.Same(factory, box.Catalog.Find("testsink"));
        Assert.Equal("plugin testsink 1.0.0", box.Catalog.OriginOf("testsink"));
        Assert.Same(helper, box.Manager.Current.Single());
        // The running version still works, with its own (in-memory) copy of the deleted dependency.
        Assert.Equal("1.0.0", PluginLoadingTests.Invoke(helper.Assembly, "ThirdParty.Sink.SinkHelpers", "tLibVersion"));
        await using (var sink = box.CreateSink("testsink", """{"type":"testsink","path":"out.txt"}"""))
        {
            await sink.WriteAsync([new PluginHost.Sdk.ChangeEvent { Table = "t", After = new PluginHost.Sdk.Row { ["id"] = 1 } }], default);
            await sink.FlushAsync(default);
        }
        Assert.Matches(@"^1\.0\.0/[0-9a-f]{8}/1\.0\.0\tt\t1$", Assert.Single(File.ReadAllLines(Path.Combine(box.Root, "out.txt"))));

        // The dependency arrives: 2.0.0 loads and the error is gone.
        ThirdPartyPlugins.CopyTo(built.SinkV2, folder);
        await Wait.UntilAsync(() => box.Manager.Find("testsink")?.Version == "2.0.0", Timeout, "version 2.0.0 with its dependency");
        Assert.Null(box.Manager.Find("testsink")!.Error);
        Assert.Equal("2.0.0", PluginLoadingTests.Invoke(box.Manager.Current.Single().Assembly, "ThirdParty.Sink.SinkHelpers", "tLibVersion"));
    }

    [Fact]
    public async Task New_folders_load_and_removed_folders_unload()
    {
        var built = await ThirdPartyPlugins.GetAsync();
        await using var box = new PluginSandbox(watch: true, debounce: TimeSpan.FromMilliseconds(200));
        await box.Manager.StartAsync(default);
        Assert.Empty(box.Manager.Plugins);
        var helperChanges = 0;
        box.Manager.Changed += () => Interlocked.Increment(ref helperChanges);

        ThirdPartyPlugins.CopyTo(built.Other, box.PluginFolder("ThirdParty.Other"));
        await Wait.UntilAsync(() => box.Catalog.Find("othersink") != null, Timeout, "the new plugin to load");
        Assert.Equal(1, helperChanges);
        Assert.Single(box.Manager.Current);

        Directory.Delete(box.PluginFolder("ThirdParty.Other"), recursive: true);
        await Wait.UntilAsync(() => box.Manager.Plugins.Count == 0, Timeout, "the removed plugin to go");
        Assert.Null(box.Catalog.Find("othersink"));
        Assert.Empty(box.Manager.Current);
        Assert.Equal(2, helperChanges);
    }
}
