using System.Text.RegularExpressions;
using PluginHost.Config;
using PluginHost.Scripting;
using PluginHost.Scripting.JavaScript;
using PluginHost.Sdk;

namespace PluginHost.Tests.Scripting.JavaScript;

/// <summary>Loading JavaScript transforms in tests, and go-mysql-kafka's README example.</summary>
internal static class JsTestKit
{
    /// <summary>go-mysql-kafka's README transform, exactly as written there (arrow function, returns the cdc_event).</summary>
    public const string SeedReadme = """
        function transform(cdc_event) {
        	cdc_event.ext = 1
        	cdc_event.after.forEach((e) => {
        		e.changed = 1
        		if (e.text_col.length > 3) {
        		e.text_col = tObfString(e.text_col)
        		}
        	});
        return cdc_event
        }
        """;

    public static JsTransform Native(string script, IHelperAssemblySource? helpers = null, TimeSpan? timeout = null, string path = "t.js")
    {
        var build = JavaScriptTransformSource.Native("test", path).Build(path, script, helpers?.Current ?? [], timeout ?? TimeSpan.FromSeconds(1));
        return build.Loaded as JsTransform ?? throw new ScriptCompilationException(build.Diagnostics);
    }

    public static TransformRule Rule(string name, string? script, string schema = "", string table = "", string? file = null) =>
        new(name, new Regex(schema), new Regex(table), file, script);

    public static JsTransform Rules(IHelperAssemblySource? helpers, TimeSpan? timeout, params TransformRule[] rules)
    {
        var source = JavaScriptTransformSource.Rules("test", rules, f => f);
        var build = source.Build("transform.rules", source.Read(), helpers?.Current ?? [], timeout ?? TimeSpan.FromSeconds(1));
        return build.Loaded as JsTransform ?? throw new ScriptCompilationException(build.Diagnostics);
    }

    public static TransformBuild Try(string script, string path = "transforms/t.js") =>
        JavaScriptTransformSource.Native("test", path).Build(path, script, [], TimeSpan.FromSeconds(1));

    /// <summary>An update of shop.users with a primary key <c>id</c>.</summary>
    public static ChangeEvent Update(long id, string text) => new()
    {
        Op = ChangeOperation.Update,
        Database = "shop",
        Table = "users",
        Before = new Row { ["id"] = id, ["text_col"] = text, ["n"] = 1L },
        After = new Row { ["id"] = id, ["text_col"] = text + "!", ["n"] = 2L },
        Schema = new TableInfo("shop", "users", [new ColumnInfo("id", ColumnKind.Integer, IsPrimaryKey: true), new ColumnInfo("text_col", ColumnKind.Text), new ColumnInfo("n", ColumnKind.Integer)]),
        Timestamp = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
        Gtid = "0-1-7",
    };
}
