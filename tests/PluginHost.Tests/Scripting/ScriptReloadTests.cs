using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Pipelines;
using PluginHost.Scripting;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using static PluginHost.Tests.Scripting.ScriptTestKit;

namespace PluginHost.Tests.Scripting;

/// <summary>Hot reload without a database: unloading, helper reloads, debounced saves.</summary>
[Collection(ManagedMemoryCollection.Name)]
[Trait("Category", "Integration")]
public sealed class ScriptReloadTests
{
    private static string Script(int v) => $$"""
        var state = new byte[64 * 1024];   // some per-version memory, to make a leak visible
        ChangeEvent Transform(ChangeEvent e)
        {
            e.Extra["v"] = {{v}};
            if (e.After is { } row && row["text_col"] is string s) row["text_col"] = tObfString(s);
            return e;
        }
        """;

    /// <summary>Plays the pipeline: takes handed-over versions and switches to them at the next "transaction".</summary>
    private sealed class FakeRunner(PipelineStatus status)
    {
        private IEventTransform? _pending;
        public IEventTransform? Live { get; private set; }

        public void Start(IEventTransform initial)
        {
            Live = initial;
            status.TransformVersion = initial.Version;
        }

        public void Swap(IEventTransform? next) => Volatile.Write(ref _pending, next);

        public ChangeEvent Transaction(ChangeEvent e)
        {
            if (Interlocked.Exchange(ref _pending, null) is { } next)
            {
                Live = next;
                status.TransformVersion = next.Version;
            }
            return Run(Live!, e).Single();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<(ScriptTransformHost Host, FakeRunner Runner, PipelineStatus Status, string Path)> StartAsync(TestHelperSource helpers, string script)
    {
        var path = Path.Combine(TempDir(), "t.csx");
        await File.WriteAllTextAsync(path, script);
        var status = new PipelineStatus("reload");
        var host = new ScriptTransformHost(path, "transforms/t.csx", helpers, TimeSpan.FromSeconds(1), status, NullLogger.Instance) { WatchFile = false };
        var runner = new FakeRunner(status);
        var initial = await host.StartAsync(CancellationToken.None);
        runner.Start(initial);
        host.Attach(runner.Swap, initial);
        return (host, runner, status, path);
    }

    private static void FullGc()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }

    [Fact]
    public async Task Five_hundred_reloads_collect_every_old_context_and_memory_stays_flat()
    {
        const int reloads = 500;
        var helpers = new TestHelperSource();
        var (host, runner, _, path) = await StartAsync(helpers, Script(0));
        using var _ = host;
        var contexts = new List<WeakReference>();
        var helperContexts = new List<WeakReference> { helpers.CurrentContext };
        long memoryAt100 = 0;
        var contextsAt100 = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 1; i <= reloads; i++)
        {
            if (i % 100 == 50)
            {
                helpers.Reload(TestHelperSource.DefaultSource.Replace("\"v1\"", $"\"v{i}\""), raise: false); // a helper plugin reload too
                helperContexts.Add(helpers.CurrentContext);
            }
            await File.WriteAllTextAsync(path, Script(i));
            var reload = await host.ReloadAsync("test");
            Assert.True(reload.Success, string.Join("\n", reload.Diagnostics));
            contexts.Add(reload.Version!.ContextReference);
            reload = null;
            var e = runner.Transaction(Event(i, "secret"));
            Assert.Equal(i, e.Extra["v"]);
            Assert.Equal("s****t", e.After!["text_col"]);
            host.RetireUnused();
            Assert.Equal(1, host.LoadedVersions);
            if (i == 100)
            {
                memoryAt100 = ManagedMemory.Settled();
                contextsAt100 = AssemblyLoadContext.All.Count();
            }
        }
        var elapsed = clock.Elapsed;
        var alive = contexts.Take(reloads - 1).Count(w => w.IsAlive);
        for (var attempt = 0; attempt < 20 && alive > 0; attempt++)
        {
            FullGc();
            await Task.Delay(50);
            alive = contexts.Take(reloads - 1).Count(w => w.IsAlive);
        }
        Assert.Equal(0, alive); // every replaced version's context was collected
        Assert.True(contexts[^1].IsAlive, "the live version must stay loaded");
        Assert.Equal(0, helperContexts.Take(helperContexts.Count - 1).Count(w => w.IsAlive)); // old helper versions too
        Assert.InRange(AssemblyLoadContext.All.Count(), 0, contextsAt100 + 2);
        var memoryAt500 = ManagedMemory.Settled();
        var growth = memoryAt500 - memoryAt100;
        Assert.True(growth < 8 << 20, $"managed memory grew by {growth / 1024} KiB over 400 reloads ({memoryAt100 / 1024} → {memoryAt500 / 1024} KiB)");
        Console.WriteLine($"500 reloads took {elapsed} (speed is measured by the transform benchmark, not asserted)");
    }

    [Fact]
    public async Task A_helper_reload_recompiles_the_scripts_that_use_it_and_only_those()
    {
        var helpers = new TestHelperSource();
        var (user, userRunner, _, _) = await StartAsync(helpers, Script(1));
        var (other, otherRunner, _, _) = await StartAsync(helpers, "ChangeEvent Transform(ChangeEvent e) { e.Extra[\"plain\"] = true; return e; }");
        using var u = user;
        using var o = other;
        var userReloads = new List<ScriptReload>();
        var otherReloads = new List<ScriptReload>();
        user.Reloaded += userReloads.Add;
        other.Reloaded += otherReloads.Add;
        var firstUser = user.Current!.Version;
        var firstOther = other.Current!.Version;
        var oldHelper = helpers.CurrentContext;

        helpers.Reload(TestHelperSource.DefaultSource.Replace("s[0] + new string('*', s.Length - 2) + s[^1]", "new string('#', s.Length)"));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (userReloads.Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        await Task.Delay(400); // time for the other host to (not) react
        Assert.True(Assert.Single(userReloads).Success);
        Assert.Equal("helper plugin changed", userReloads[0].Reason);
        Assert.NotEqual(firstUser, user.Current!.Version);
        Assert.Equal("######", userRunner.Transaction(Event(1, "secret")).After!["text_col"]);
        Assert.Empty(otherReloads);
        Assert.Equal(firstOther, other.Current!.Version);
        Assert.Equal(true, otherRunner.Transaction(Event(1, "x")).Extra["plain"]);

        user.RetireUnused();
        for (var i = 0; i < 20 && oldHelper.IsAlive; i++)
        {
            FullGc();
            await Task.Delay(20);
        }
        Assert.False(oldHelper.IsAlive, "the old helper plugin's context is still referenced after the scripts moved on");
    }

    [Fact]
    public async Task Removing_the_helper_keeps_the_old_version_running_and_reports_the_error()
    {
        var helpers = new TestHelperSource();
        var (host, runner, status, _) = await StartAsync(helpers, Script(1));
        using var _ = host;
        var version = host.Current!.Version;
        var reloaded = new TaskCompletionSource<ScriptReload>();
        host.Reloaded += r => reloaded.TrySetResult(r);
        helpers.Clear();
        var result = await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(result.Success);
        Assert.Contains("error CS0103: The name 'tObfString' does not exist", status.TransformDiagnostics);
        Assert.Equal(version, host.Current!.Version);
        Assert.Equal("s****t", runner.Transaction(Event(1, "secret")).After!["text_col"]);
    }

    [Fact]
    public async Task An_editor_saving_in_several_steps_triggers_one_compile_of_the_final_text()
    {
        var dir = TempDir();
        var path = Path.Combine(dir, "t.csx");
        await File.WriteAllTextAsync(path, "ChangeEvent Transform(ChangeEvent e) { e.Extra[\"v\"] = 1; return e; }");
        var status = new PipelineStatus("editor");
        using var host = new ScriptTransformHost(path, "t.csx", null, TimeSpan.FromSeconds(1), status, NullLogger.Instance) { Debounce = TimeSpan.FromMilliseconds(150) };
        var initial = await host.StartAsync(CancellationToken.None);
        var reloads = new List<ScriptReload>();
        host.Reloaded += r => { lock (reloads) reloads.Add(r); };

        // truncate + partial write, then a backup file, then the real content via a temp file renamed over it
        await File.WriteAllTextAsync(path, "ChangeEvent Transform(ChangeEvent e) { e.Extra[");
        await File.WriteAllTextAsync(Path.Combine(dir, "t.csx~"), "backup");
        await Task.Delay(30);
        var temp = Path.Combine(dir, ".t.csx.tmp");
        await File.WriteAllTextAsync(temp, "ChangeEvent Transform(ChangeEvent e) { e.Extra[\"v\"] = 2; return e; }");
        File.Move(temp, path, overwrite: true);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (host.Current == initial && DateTime.UtcNow < deadline) await Task.Delay(20);
        await Task.Delay(500);
        lock (reloads)
        {
            var compiled = reloads.Where(r => !r.Unchanged).ToList();
            Assert.True(Assert.Single(compiled).Success, string.Join("\n", compiled.SelectMany(r => r.Diagnostics)));
        }
        Assert.Equal(2, Run(host.Current!, Event(1, "x"))[0].Extra["v"]);
    }

    [Fact]
    public async Task Undoing_a_broken_save_shows_the_running_version_again_not_its_errors()
    {
        var path = Path.Combine(TempDir(), "t.csx");
        const string Good = "ChangeEvent Transform(ChangeEvent e) { int unused; e.Extra[\"v\"] = 1; return e; }";
        await File.WriteAllTextAsync(path, Good);
        var status = new PipelineStatus("undo");
        using var host = new ScriptTransformHost(path, "t.csx", null, TimeSpan.FromSeconds(1), status, NullLogger.Instance) { WatchFile = false };
        var running = await host.StartAsync(CancellationToken.None);
        Assert.Contains("warning CS0168", status.TransformDiagnostics);

        await File.WriteAllTextAsync(path, "ChangeEvent Transform(ChangeEvent e) { return nope; }");
        Assert.False((await host.ReloadAsync("file changed")).Success);
        Assert.Contains("error CS0103", status.TransformDiagnostics);

        await File.WriteAllTextAsync(path, Good); // undo: the text of the version that never stopped running
        var undone = await host.ReloadAsync("file changed");
        Assert.True(undone.Unchanged);
        Assert.Same(running, host.Current);
        Assert.DoesNotContain("error", status.TransformDiagnostics);
        Assert.Contains("warning CS0168", status.TransformDiagnostics);
        Assert.DoesNotContain(host.Diagnostics, d => d.IsError);

        // The broken text saved again is compiled (and reported) again.
        await File.WriteAllTextAsync(path, "ChangeEvent Transform(ChangeEvent e) { return nope; }");
        Assert.False((await host.ReloadAsync("file changed")).Success);
        Assert.Contains("error CS0103", status.TransformDiagnostics);
    }

    [Fact]
    public async Task Changes_no_file_event_names_are_seen_by_polling_a_configmap_volume_and_a_symlink_elsewhere()
    {
        static string Version(int v) => $"ChangeEvent Transform(ChangeEvent e) {{ e.Extra[\"v\"] = {v}; return e; }}";
        static async Task<int> LiveAsync(ScriptTransformHost host, int expected)
        {
            var deadline = DateTime.UtcNow.AddSeconds(20); // hang guard
            while (DateTime.UtcNow < deadline)
            {
                if (host.Current is { } c && Run(c, Event(1, "x"))[0].Extra["v"] is int v && v == expected) return v;
                await Task.Delay(50);
            }
            return (int)Run(host.Current!, Event(1, "x"))[0].Extra["v"]!;
        }

        // A Kubernetes ConfigMap volume: t.csx -> ..data/t.csx, ..data -> ..<timestamp>; an update writes a new
        // timestamped folder and renames a new ..data link over the old one. No event names t.csx.
        var volume = TempDir();
        Directory.CreateDirectory(Path.Combine(volume, "..2026_11_21_1"));
        await File.WriteAllTextAsync(Path.Combine(volume, "..2026_11_21_1", "t.csx"), Version(1));
        File.CreateSymbolicLink(Path.Combine(volume, "..data"), "..2026_11_21_1");
        File.CreateSymbolicLink(Path.Combine(volume, "t.csx"), Path.Combine("..data", "t.csx"));
        using var mounted = new ScriptTransformHost(Path.Combine(volume, "t.csx"), "t.csx", null, TimeSpan.FromSeconds(1), new PipelineStatus("configmap"),
            NullLogger.Instance) { PollInterval = TimeSpan.FromMilliseconds(100) };
        await mounted.StartAsync(CancellationToken.None);
        Assert.Equal(1, await LiveAsync(mounted, 1));
        Directory.CreateDirectory(Path.Combine(volume, "..2026_11_21_2"));
        await File.WriteAllTextAsync(Path.Combine(volume, "..2026_11_21_2", "t.csx"), Version(2));
        File.CreateSymbolicLink(Path.Combine(volume, "..data_tmp"), "..2026_11_21_2");
        // rename(2) of the link over the old one, as the kubelet does (File.Move would follow the link to a folder)
        using (var mv = Process.Start("mv", ["-T", "-f", Path.Combine(volume, "..data_tmp"), Path.Combine(volume, "..data")])!)
        {
            await mv.WaitForExitAsync();
            Assert.Equal(0, mv.ExitCode);
        }
        Assert.Equal(2, await LiveAsync(mounted, 2));

        // A script that is a symlink to a file in another folder, edited there.
        var elsewhere = Path.Combine(TempDir(), "real.csx");
        await File.WriteAllTextAsync(elsewhere, Version(3));
        var link = Path.Combine(TempDir(), "t.csx");
        File.CreateSymbolicLink(link, elsewhere);
        using var linked = new ScriptTransformHost(link, "t.csx", null, TimeSpan.FromSeconds(1), new PipelineStatus("symlink"), NullLogger.Instance)
        {
            PollInterval = TimeSpan.FromMilliseconds(100),
        };
        await linked.StartAsync(CancellationToken.None);
        Assert.Equal(3, await LiveAsync(linked, 3));
        await File.WriteAllTextAsync(elsewhere, Version(4));
        Assert.Equal(4, await LiveAsync(linked, 4));
    }
}
