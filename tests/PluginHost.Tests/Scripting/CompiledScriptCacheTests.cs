using PluginHost.Scripting;
using PluginHost.Sdk;
using static PluginHost.Tests.Scripting.ScriptTestKit;

namespace PluginHost.Tests.Scripting;

/// <summary>The on-disk cache of compiled transforms that lets a restarted host skip the compiler.</summary>
public sealed class CompiledScriptCacheTests
{
    private readonly TestHelperSource _helpers = new();
    private readonly CompiledScriptCache _cache = CompiledScriptCache.ForStateDirectory(TempDir());

    private ScriptBuild Build(string text, string path = "transforms/seed.csx") => ScriptCompiler.CompileCached(path, text, _helpers.Current, _cache);

    [Fact]
    public void A_second_build_of_the_same_script_comes_from_the_cache_and_behaves_the_same()
    {
        var compiled = Build(SeedExample);
        Assert.True(compiled.Success);
        Assert.False(compiled.FromCache);
        Assert.Equal(2, Directory.GetFiles(_cache.Directory).Length); // image + description

        var cached = Build(SeedExample);
        Assert.True(cached.FromCache);
        Assert.Equal(compiled.Image, cached.Image);
        Assert.Equal(compiled.Shape, cached.Shape);
        Assert.Equal(compiled.ContentHash, cached.ContentHash);
        Assert.Equal(compiled.UsedHelpers.Select(h => h.PluginName), cached.UsedHelpers.Select(h => h.PluginName));

        using var fromCompiler = CompiledTransform.Load(compiled, TimeSpan.FromSeconds(1));
        using var fromCache = CompiledTransform.Load(cached, TimeSpan.FromSeconds(1));
        var a = Run(fromCompiler, Event(1, "hello world"));
        var b = Run(fromCache, Event(1, "hello world"));
        Assert.Equal(Assert.Single(a).ToString(), Assert.Single(b).ToString());
        Assert.Contains("\"text_col\":\"h*********d\"", b[0].ToString());
        Assert.Equal(fromCompiler.UsedHelpers.Single().PluginName, fromCache.UsedHelpers.Single().PluginName);
    }

    [Fact]
    public void Warnings_and_the_loop_time_limit_survive_the_cache()
    {
        const string script = """
            ChangeEvent Transform(ChangeEvent e)
            {
                int unused = 1;
                if (e.Table == "spin")
                    while (true) { }
                return e;
            }
            """;
        var compiled = Build(script, "transforms/spin.csx");
        var cached = Build(script, "transforms/spin.csx");
        Assert.True(cached.FromCache);
        Assert.Equal(compiled.Diagnostics, cached.Diagnostics);
        Assert.Contains(cached.Diagnostics, d => d.Id == "CS0219" && d.Line == 3);

        using var t = CompiledTransform.Load(cached, TimeSpan.FromMilliseconds(200));
        var e = Event(1, "x");
        e.Table = "spin";
        var ex = Assert.Throws<TransformTimeoutException>(() => Run(t, e));
        Assert.Contains("stopped in the loop at transforms/spin.csx:line 5", ex.Message);
        Assert.Single(Run(t, Event(2, "ok")));
    }

    [Fact]
    public void A_changed_script_name_or_helper_is_compiled_again()
    {
        Assert.False(Build(SeedExample).FromCache);
        Assert.False(Build(SeedExample + "\n// edited").FromCache);
        Assert.False(Build(SeedExample, "transforms/other.csx").FromCache);

        _helpers.Reload(TestHelperSource.DefaultSource.Replace("'*'", "'#'"), raise: false); // same helper, new code
        var rebuilt = Build(SeedExample);
        Assert.False(rebuilt.FromCache);
        using var t = CompiledTransform.Load(rebuilt, TimeSpan.FromSeconds(1));
        Assert.Contains("\"text_col\":\"h#########d\"", Assert.Single(Run(t, Event(1, "hello world"))).ToString());
        Assert.True(Build(SeedExample).FromCache);
    }

    [Fact]
    public void A_damaged_entry_is_ignored_and_replaced_and_failed_builds_are_not_kept()
    {
        Build(SeedExample);
        var image = Assert.Single(Directory.GetFiles(_cache.Directory, "*.dll"));
        var bytes = File.ReadAllBytes(image);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(image, bytes);

        var again = Build(SeedExample);
        Assert.False(again.FromCache);
        Assert.True(Build(SeedExample).FromCache);

        File.WriteAllText(Path.ChangeExtension(image, ".json"), "{ not json");
        Assert.False(Build(SeedExample).FromCache);

        var broken = Build("ChangeEvent Transform(ChangeEvent e) => nope;");
        Assert.False(broken.Success);
        Assert.False(Build("ChangeEvent Transform(ChangeEvent e) => nope;").FromCache);
        Assert.Single(Directory.GetFiles(_cache.Directory, "*.dll"));
    }

    [Fact]
    public void Only_the_newest_entries_are_kept()
    {
        var cache = new CompiledScriptCache(TempDir()) { MaxEntries = 3 };
        for (var i = 0; i < 6; i++)
            ScriptCompiler.CompileCached("t.csx", $"ChangeEvent? Transform(ChangeEvent e) => e; // {i}", [], cache);
        Assert.Equal(3, Directory.GetFiles(cache.Directory, "*.json").Length);
        Assert.Equal(3, Directory.GetFiles(cache.Directory, "*.dll").Length);
        Assert.True(ScriptCompiler.CompileCached("t.csx", "ChangeEvent? Transform(ChangeEvent e) => e; // 5", [], cache).FromCache);
        Assert.False(ScriptCompiler.CompileCached("t.csx", "ChangeEvent? Transform(ChangeEvent e) => e; // 0", [], cache).FromCache);
    }

    [Fact]
    public void What_a_crash_between_writes_leaves_is_removed_once_old_and_a_store_in_progress_is_not()
    {
        var cache = new CompiledScriptCache(TempDir()) { MaxEntries = 3 };
        ScriptCompiler.CompileCached("t.csx", "ChangeEvent? Transform(ChangeEvent e) => e; // a", [], cache);
        string Put(string name, TimeSpan age)
        {
            var path = Path.Combine(cache.Directory, name);
            File.WriteAllBytes(path, [1, 2, 3]);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
            return path;
        }
        var oldTemp = Put("0123456789abcdef0123456789abcdef.dll.4242.deadbeef.tmp", TimeSpan.FromHours(1));
        var oldImage = Put("fedcba9876543210fedcba9876543210.dll", TimeSpan.FromHours(1)); // its .json never written
        var newTemp = Put("00112233445566778899aabbccddeeff.json.4243.cafebabe.tmp", TimeSpan.Zero); // another process storing now
        var newImage = Put("ffeeddccbbaa99887766554433221100.dll", TimeSpan.Zero);
        var other = Put("README.txt", TimeSpan.FromDays(3));

        ScriptCompiler.CompileCached("t.csx", "ChangeEvent? Transform(ChangeEvent e) => e; // b", [], cache); // a store prunes
        Assert.False(File.Exists(oldTemp));
        Assert.False(File.Exists(oldImage));
        Assert.True(File.Exists(newTemp));
        Assert.True(File.Exists(newImage));
        Assert.True(File.Exists(other)); // not the cache's
        Assert.Equal(2, Directory.GetFiles(cache.Directory, "*.json").Length);
        Assert.True(ScriptCompiler.CompileCached("t.csx", "ChangeEvent? Transform(ChangeEvent e) => e; // a", [], cache).FromCache);
    }
}
