using System.Globalization;
using PluginHost.Config;
using PluginHost.Sdk;

namespace PluginHost.Tests.Support;

/// <summary>Helpers for pipeline tests against the shared MariaDB: config text, a running pipeline, waits, sink and store doubles.</summary>
internal static class Kit
{
    private static int _serverId = 7100;

    /// <summary>A replica server id no other pipeline of this test run uses.</summary>
    public static int NextServerId() => Interlocked.Increment(ref _serverId);

    public static (string File, long Position) MasterStatus(MariaDbServer db)
    {
        var f = db.Sql("SHOW MASTER STATUS;").Split('\n')[0].Split('\t');
        return (f[0], long.Parse(f[1], CultureInfo.InvariantCulture));
    }

    public static string GtidPos(MariaDbServer db) => db.Sql("SELECT @@GLOBAL.gtid_binlog_pos;").Trim();

    /// <summary>YAML of one pipeline reading the test server (indented for the <c>pipelines:</c> list).</summary>
    public static string PipelineYaml(MariaDbServer db, string name, string start, string filter, string sinkPath,
        string password = "", string extra = "") => $$"""
          - name: {{name}}
            source: { host: {{db.Host}}, port: {{db.Port}}, user: {{db.User}}, password: "{{password}}", server_id: {{NextServerId()}}, start: {{start}}, ssl: none, heartbeat: 1s, connect_timeout: 5s }
            filter: {{filter}}
            sink: { type: file, path: "{{sinkPath}}" }
        {{extra}}
        """;

    public static string FileStart((string File, long Position) p) => $"{{ file: {p.File}, pos: {p.Position} }}";

    public static HostConfig Config(string dir, params string[] pipelines) =>
        ConfigLoader.Parse($"state_dir: {dir}/state\nserver: {{ enabled: false }}\npipelines:\n{string.Join("\n", pipelines)}\n",
            Path.Combine(dir, "pluginhost.yaml"), new Dictionary<string, string>(), new HashSet<string> { "file" });

    /// <summary>The lines of a JSONL file (read while it is being written).</summary>
    public static List<string> Lines(string path)
    {
        if (!File.Exists(path)) return [];
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var text = new StreamReader(f).ReadToEnd();
        // Only whole lines: the sink may be between writing a line and its newline.
        var end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n').ToList();
    }

    public static List<ChangeEvent> Events(string path) => Lines(path).Select(ChangeEventJson.Parse).ToList();

    public static Task WaitUntil(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Poll.UntilAsync(condition, timeout ?? TimeSpan.FromSeconds(20), () => what);

    /// <summary>The row id of an event (after image, or before for deletes).</summary>
    public static long Id(ChangeEvent e) => Convert.ToInt64(e.Current!["id"], CultureInfo.InvariantCulture);

    public static string Describe(ChangeEvent e) => $"{e.Op.ToString().ToLowerInvariant()} {e.Table} {Id(e)}";
}
