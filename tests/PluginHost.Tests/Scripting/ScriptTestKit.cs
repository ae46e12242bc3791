using PluginHost.Pipelines;
using PluginHost.Plugins;
using PluginHost.Scripting;
using PluginHost.Sdk;

namespace PluginHost.Tests.Scripting;

/// <summary>Shared bits of the scripting tests.</summary>
internal static class ScriptTestKit
{
    /// <summary>The seed example of the transforms issue, as written there.</summary>
    public const string SeedExample = """
        ChangeEvent Transform(ChangeEvent e)
        {
            e.Extra["ext"] = 1;
            if (e.After is { } row)
            {
                row["changed"] = 1;
                if (row["text_col"] is string s && s.Length > 3) row["text_col"] = tObfString(s);
            }
            return e;
        }
        """;

    public static CompiledTransform Load(string script, IHelperAssemblySource? helpers = null, string path = "test.csx", TimeSpan? timeout = null)
    {
        var build = ScriptCompiler.Compile(path, script, helpers?.Current ?? []);
        if (!build.Success) throw new ScriptCompilationException(build.Diagnostics);
        return CompiledTransform.Load(build, timeout ?? TimeSpan.FromSeconds(1));
    }

    public static ChangeEvent Event(long id, string text, ChangeOperation op = ChangeOperation.Insert) => new()
    {
        Op = op,
        Database = "shop",
        Table = "users",
        After = op == ChangeOperation.Delete ? null : new Row { ["id"] = id, ["text_col"] = text },
        Before = op == ChangeOperation.Insert ? null : new Row { ["id"] = id, ["text_col"] = text },
        Timestamp = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
    };

    public static List<ChangeEvent> Run(IEventTransform t, ChangeEvent e)
    {
        var output = new List<ChangeEvent>();
        t.Apply(e, output);
        return output;
    }

    public static string TempDir() => TestTemp.CreateSubdirectory("pluginhost-scripts-").FullName;
}
