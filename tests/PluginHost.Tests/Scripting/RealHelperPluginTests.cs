using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.Extensions.Logging.Abstractions;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Sdk;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Scripting;

/// <summary>
/// Transforms with the real UserFunctions plugin, loaded by the real <see cref="PluginManager"/> from the built plugin
/// folders (<c>artifacts/plugins</c>), in pipelines on the real MariaDB: the seed example end to end, and a plugin
/// reload that makes a running pipeline recompile its script.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class RealHelperPluginTests(MariaDbServer db)
{
    private static string Sample(string name) => File.ReadAllText(Path.Combine(RepoPaths.RepoRoot, "transforms", name));

    private static string BuiltUserFunctions()
    {
        var folder = Path.Combine(PluginDirectories.BuiltPlugins, "UserFunctions");
        Assert.True(File.Exists(Path.Combine(folder, "PluginHost.Plugins.UserFunctions.dll")), $"the UserFunctions plugin is not built into {folder}");
        return folder;
    }

    [Fact]
    public async Task Seed_example_end_to_end_with_the_built_UserFunctions_plugin()
    {
        BuiltUserFunctions();
        await using var plugins = new PluginManager(new PluginManagerOptions { Directory = PluginDirectories.BuiltPlugins, Watch = false }, new SinkCatalog(), NullLoggerFactory.Instance);
        await plugins.LoadAllAsync();
        var helper = Assert.Single(plugins.Current, h => h.PluginName == "UserFunctions");
        Assert.Equal("PluginHost.Plugins.UserFunctions", helper.Assembly.GetName().Name);

        db.Sql("DROP DATABASE IF EXISTS script_real; CREATE DATABASE script_real; CREATE TABLE script_real.t (id INT PRIMARY KEY, text_col VARCHAR(64), n INT);");
        await using var p = await ScriptPipeline.StartAsync(db, "real-seed", 5311, "script_real", Sample("obfuscate.csx"), plugins);
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql("""
            INSERT INTO t VALUES (1, 'John Smith', 1), (2, 'Bob', 2), (3, NULL, 3), (4, 'Alice B', 4);
            UPDATE t SET text_col = 'hello there' WHERE id = 1;
            """, "script_real");
        await p.WaitForAsync(() => p.OutputCount() >= 5, "5 events");
        var events = p.Output();
        Assert.Equal(5, events.Count);
        Assert.All(events, e => Assert.Equal(1, (int)e["ext"]!));
        Assert.Equal("{\"id\":1,\"text_col\":\"J********h\",\"n\":1,\"changed\":1}", events[0]["after"]!.ToJsonString());
        Assert.Equal("{\"id\":2,\"text_col\":\"Bob\",\"n\":2,\"changed\":1}", events[1]["after"]!.ToJsonString()); // 3 characters: left alone by the script
        Assert.Equal("{\"id\":3,\"text_col\":null,\"n\":3,\"changed\":1}", events[2]["after"]!.ToJsonString());
        Assert.Equal("A*****B", (string?)events[3]["after"]!["text_col"]); // spaces are masked too (the plugin's rule)
        Assert.Equal("h*********e", (string?)events[4]["after"]!["text_col"]);
        Assert.Equal("J********h", (string?)events[4]["before"]!["text_col"]); // the old row of an update is masked too
        Assert.Null(p.Status.TransformDiagnostics);
    }

    /// <summary>A replacement UserFunctions assembly (same name and class) whose tObfString masks everything with '#'.</summary>
    private static byte[] VariantUserFunctions()
    {
        const string source = """
            namespace PluginHost.Plugins.UserFunctions;
            [PluginHost.Sdk.HelperFunctions]
            public static class UserFunctions
            {
                public static string? tObfString(string? value) => value is null ? null : new string('#', value.Length);
            }
            """;
        var dir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetDirectoryName(p) == dir)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(ChangeEvent).Assembly.Location));
        var compilation = CSharpCompilation.Create("PluginHost.Plugins.UserFunctions", [CSharpSyntaxTree.ParseText(source)], references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        using var pe = new MemoryStream();
        var emit = compilation.Emit(pe);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        return pe.ToArray();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference ContextOf(string name) => new(AssemblyLoadContext.All.Single(c => c.Name == name));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference HelperContext(PluginManager plugins) =>
        new(AssemblyLoadContext.GetLoadContext(plugins.Current.Single(h => h.PluginName == "UserFunctions").Assembly));

    [Fact]
    public async Task A_plugin_manager_reload_of_UserFunctions_recompiles_the_running_script_and_the_old_contexts_are_collected()
    {
        var root = ScriptTestKit.TempDir();
        var pluginsDir = Path.Combine(root, "plugins");
        var folder = Path.Combine(pluginsDir, "UserFunctions");
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(BuiltUserFunctions())) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        await using var plugins = new PluginManager(new PluginManagerOptions { Directory = pluginsDir, Watch = false }, new SinkCatalog(), NullLoggerFactory.Instance);
        await plugins.LoadAllAsync();

        db.Sql("DROP DATABASE IF EXISTS script_swap; CREATE DATABASE script_swap; CREATE TABLE script_swap.t (id INT PRIMARY KEY, text_col VARCHAR(64), n INT);");
        await using var p = await ScriptPipeline.StartAsync(db, "real-swap", 5312, "script_swap", Sample("obfuscate.csx"), plugins);
        await p.WaitForAsync(() => p.Status.State == PipelineState.Running, "the pipeline to run");
        db.Sql("INSERT INTO t VALUES (1, 'hello world', 1);", "script_swap");
        await p.WaitForAsync(() => p.OutputCount() >= 1, "the first event");
        Assert.Equal("h*********d", (string?)p.Output()[0]["after"]!["text_col"]);
        var v1 = p.Status.TransformVersion!;
        var oldScript = ContextOf($"script {v1}");
        var oldHelper = HelperContext(plugins);

        // The plugin changes on disk (a rebuilt variant of the same assembly) and the plugin manager reloads it.
        File.Delete(Path.Combine(folder, "PluginHost.Plugins.UserFunctions.pdb"));
        await File.WriteAllBytesAsync(Path.Combine(folder, "PluginHost.Plugins.UserFunctions.dll"), VariantUserFunctions());
        var status = await plugins.ReloadAsync("UserFunctions");
        Assert.NotNull(status);
        Assert.Null(status.Error);
        await p.WaitForAsync(() => p.Status.TransformVersion != v1, "the script to be recompiled against the reloaded plugin");

        db.Sql("INSERT INTO t VALUES (2, 'hello world', 2); INSERT INTO t VALUES (3, 'John Smith', 3);", "script_swap");
        await p.WaitForAsync(() => p.OutputCount() >= 3, "3 events");
        var events = p.Output();
        Assert.Equal(3, events.Count);
        Assert.Equal("###########", (string?)events[1]["after"]!["text_col"]); // the new helper, through the recompiled script
        Assert.Equal("##########", (string?)events[2]["after"]!["text_col"]);
        Assert.All(events, e => Assert.Equal(1, (int)e["ext"]!));
        Assert.Contains(p.Logs.Lines, l => l.Contains($"transform version {p.Status.TransformVersion} live from the next transaction"));

        // The old script version and the old plugin version are unloaded and collected.
        for (var i = 0; i < 100 && (oldScript.IsAlive || oldHelper.IsAlive); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            await Task.Delay(100);
        }
        Assert.False(oldScript.IsAlive, $"the old script version {v1} is still loaded");
        Assert.False(oldHelper.IsAlive, "the old UserFunctions plugin context is still loaded");
    }
}
