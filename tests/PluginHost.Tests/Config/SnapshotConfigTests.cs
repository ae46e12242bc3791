using PluginHost.Config;
using PluginHost.Sdk;

namespace PluginHost.Tests.Config;

/// <summary>
/// A pipeline's <c>snapshot:</c> block and the <c>read</c> operation in <c>filter.events</c> (docs/configuration.md,
/// docs/snapshots.md): valid blocks bind, each bad value is an error naming its key.
/// </summary>
public sealed class SnapshotConfigTests
{
    private const string File = "/etc/pluginhost/pluginhost.yaml";
    private static readonly ISet<string> SinkTypes = new HashSet<string> { "file" };

    /// <summary>One pipeline with <paramref name="lines"/> (each indented as a pipeline key) added.</summary>
    private static string Yaml(params string[] lines) => $$"""
        pipelines:
          - name: p
            source: { host: db, user: u, server_id: 7 }
            sink: { type: file, path: out.jsonl }
        {{string.Join("\n", lines.Select(l => "    " + l))}}
        """;

    private static PipelineDefinition Pipeline(params string[] lines) =>
        ConfigLoader.Parse(Yaml(lines), File, new Dictionary<string, string>(), SinkTypes).Pipelines.Single();

    /// <summary>The error for <paramref name="key"/>, which must mention each of <paramref name="parts"/>.</summary>
    private static ConfigError Error(string key, string[] lines, params string[] parts) => ErrorIn(Yaml(lines), key, parts);

    private static ConfigError ErrorIn(string yaml, string key, params string[] parts)
    {
        var errors = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, File, new Dictionary<string, string>(), SinkTypes)).Errors;
        var hit = errors.FirstOrDefault(e => e.Pipeline == "p" && e.Key == key);
        Assert.True(hit != null, $"no error for key {key}; got:\n  {string.Join("\n  ", errors)}");
        foreach (var part in parts) Assert.Contains(part, hit.Message, StringComparison.OrdinalIgnoreCase);
        return hit;
    }

    [Fact]
    public void A_valid_snapshot_block_binds_and_the_default_is_never()
    {
        var none = Pipeline();
        Assert.Equal(SnapshotMode.Never, none.Snapshot.Mode);
        Assert.Equal(10_000, none.Snapshot.ChunkSize);
        Assert.Null(none.Snapshot.Tables);

        var p = Pipeline("filter: { include: [\"shop.*\", \"crm.*\"] }",
            "snapshot: { mode: initial_only, chunk_size: 500, tables: [\"shop.*\", \"crm.users\"], consistency: watermark }");
        Assert.Equal(SnapshotMode.InitialOnly, p.Snapshot.Mode);
        Assert.Equal(500, p.Snapshot.ChunkSize);
        Assert.Equal(SnapshotConsistency.Watermark, p.Snapshot.Consistency);
        Assert.True(p.Snapshot.Tables!.IncludesTable("shop", "orders"));
        Assert.True(p.Snapshot.Tables.IncludesTable("crm", "users"));
        Assert.False(p.Snapshot.Tables.IncludesTable("crm", "notes"));
        Assert.Equal(SnapshotMode.WhenNeeded, Pipeline("snapshot: { mode: when-needed, chunk_size: 1000000 }").Snapshot.Mode);
        Assert.Equal(SnapshotConsistency.SnapshotPosition, Pipeline("snapshot: { mode: initial, consistency: snapshot_position }").Snapshot.Consistency);
    }

    [Fact]
    public void Each_bad_snapshot_setting_is_an_error_naming_its_key()
    {
        Error("snapshot.mode", ["snapshot: { mode: sometimes }"], "sometimes", "initial_only", "when_needed");
        Error("snapshot.chunk_size", ["snapshot: { mode: initial, chunk_size: 0 }"], "1-1000000");
        Error("snapshot.chunk_size", ["snapshot: { mode: initial, chunk_size: 2000000 }"], "1-1000000");
        Error("snapshot.chunk_size", ["snapshot: { chunk_size: lots }"]);
        Error("snapshot.consistency", ["snapshot: { mode: initial, consistency: strong }"], "strong", "snapshot_position", "watermark");
        Error("snapshot.tables[1]", ["snapshot: { mode: initial, tables: [\"shop.*\", \"nodot\"] }"], "nodot");
        Error("snapshot.tables", ["snapshot: { mode: initial, tables: [] }"], "empty");
        Error("snapshot.rows_per_chunk", ["snapshot: { rows_per_chunk: 5 }"], "unknown setting", "chunk_size");
    }

    [Theory]
    [InlineData("{ file: mysql-bin.000003, pos: 4 }", "mysql-bin.000003:4")]
    [InlineData("{ gtid: \"0-1-42\" }", "0-1-42")]
    [InlineData("earliest", "earliest")]
    public void A_snapshot_mode_with_a_start_position_is_an_error_naming_source_start(string start, string shown)
    {
        foreach (var mode in new[] { "initial", "initial_only", "when_needed" })
            ErrorIn(Yaml("snapshot: { mode: " + mode + " }").Replace("server_id: 7 }", $"server_id: 7, start: {start} }}"), "source.start", shown, "snapshot.mode " + mode, "latest");
        // Mode never takes any start, and latest goes with every mode.
        var yaml = Yaml("snapshot: { mode: never }").Replace("server_id: 7 }", $"server_id: 7, start: {start} }}");
        Assert.Equal(SnapshotMode.Never, ConfigLoader.Parse(yaml, File, new Dictionary<string, string>(), SinkTypes).Pipelines.Single().Snapshot.Mode);
        yaml = Yaml("snapshot: { mode: initial }").Replace("server_id: 7 }", "server_id: 7, start: latest }");
        Assert.Equal(SnapshotMode.Initial, ConfigLoader.Parse(yaml, File, new Dictionary<string, string>(), SinkTypes).Pipelines.Single().Snapshot.Mode);
    }

    [Fact]
    public void Filter_events_take_read_and_include_it_when_left_out()
    {
        var only = Pipeline("filter: { events: [read] }").Filter;
        Assert.True(only.IncludesOperation(ChangeOperation.Read));
        Assert.False(only.IncludesOperation(ChangeOperation.Insert));
        Assert.False(only.IncludesOperation(ChangeOperation.Delete));
        var all = Pipeline().Filter;
        Assert.All(Enum.GetValues<ChangeOperation>(), op => Assert.True(all.IncludesOperation(op), op.ToString()));
        Assert.False(Pipeline("filter: { events: [insert, update, delete] }").Filter.IncludesOperation(ChangeOperation.Read));
        Assert.Equal(SnapshotMode.Initial, Pipeline("filter: { events: [insert, READ] }", "snapshot: { mode: initial }").Snapshot.Mode);

        Error("filter.events[0]", ["filter: { events: [select] }"], "select", "insert", "update", "delete", "read");
    }

    [Fact]
    public void A_snapshot_mode_with_filter_events_leaving_out_read_is_an_error_naming_filter_events()
    {
        // Every row a snapshot reads is a read event: without read in filter.events it would read each table for nothing.
        Error("filter.events", ["filter: { events: [insert, update, delete] }", "snapshot: { mode: initial }"], "read", "snapshot.mode initial");
        Error("filter.events", ["filter: { events: [insert] }", "snapshot: { mode: when_needed }"], "read");
        Assert.Equal(SnapshotMode.Never, Pipeline("filter: { events: [insert] }", "snapshot: { mode: never }").Snapshot.Mode);
    }
}
