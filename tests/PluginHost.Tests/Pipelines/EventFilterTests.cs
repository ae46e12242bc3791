using PluginHost.Checkpoints;
using PluginHost.Config;
using PluginHost.Pipelines;
using PluginHost.Sdk;
using PluginHost.Sinks;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Pipelines;

/// <summary>Table names are data: a newline, a dot or a regex metacharacter in a name is matched as itself.</summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class EventFilterTests(MariaDbServer db, ITestOutputHelper output)
{
    private static readonly ChangeOperation[] All = [ChangeOperation.Insert, ChangeOperation.Update, ChangeOperation.Delete];

    [Theory]
    [InlineData("shop.*", "shop", "line\nbreak", true)]
    [InlineData("shop.a*z", "shop", "a\n\nz", true)]
    [InlineData("shop.a?z", "shop", "a\nz", true)]
    [InlineData("shop.t", "shop", "t\n", false)]     // a regex's '$' matched before a final newline
    [InlineData("shop.*", "shop\n", "t", false)]
    [InlineData("shop.*", "sho", "p.t", false)]       // database and table are matched apart
    [InlineData("sh*.t", "shop", "t", true)]
    [InlineData("shop.a+b", "shop", "aab", false)]    // '+' is a character, not a regex quantifier
    [InlineData("shop.a+b", "shop", "a+b", true)]
    [InlineData("shop.[ab]", "shop", "[ab]", true)]
    [InlineData("shop.*a*a*a*a*a*a*b", "shop", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    [InlineData("*.*", "", "", true)]
    public void Patterns_match_names_as_data(string pattern, string database, string table, bool matches) =>
        Assert.Equal(matches, new EventFilter([pattern], [], All).IncludesTable(database, table));

    [Fact]
    public void Excludes_win_over_includes_with_newlines_too()
    {
        var filter = new EventFilter(["shop.*"], ["shop.audit*"], All);
        Assert.False(filter.IncludesTable("shop", "audit\nlog"));
        Assert.True(filter.IncludesTable("shop", "orders\nold"));
    }

    [Fact]
    public async Task Rows_of_a_MariaDB_table_whose_name_has_a_newline_are_delivered_not_filtered()
    {
        var dir = TestTemp.CreateSubdirectory("pluginhost-filter-").FullName;
        db.Sql("DROP DATABASE IF EXISTS pt_newline; CREATE DATABASE pt_newline; CREATE TABLE pt_newline.`line\nbreak` (id INT PRIMARY KEY); CREATE TABLE pt_newline.plain (id INT PRIMARY KEY);");
        var start = Kit.MasterStatus(db);
        var config = Kit.Config(dir, Kit.PipelineYaml(db, "newline", Kit.FileStart(start), """{ include: ["pt_newline.*"], exclude: ["pt_newline.plain?"] }""", Path.Combine(dir, "out.jsonl")));
        var def = config.Pipelines[0];
        await using var p = new RunningPipeline(def, new FileSink(Path.Combine(dir, "out.jsonl")), new FileCheckpointStore(config.StateDirectory), output).Start();
        db.Sql("INSERT INTO `line\nbreak` VALUES (1), (2); INSERT INTO plain VALUES (3);", "pt_newline");
        await Kit.WaitUntil(() => Kit.Lines(Path.Combine(dir, "out.jsonl")).Count >= 3, "3 events", TimeSpan.FromSeconds(30));
        var events = Kit.Events(Path.Combine(dir, "out.jsonl"));
        Assert.Equal(["line\nbreak 1", "line\nbreak 2", "plain 3"], events.Select(e => $"{e.Table} {Kit.Id(e)}"));
        Assert.Equal(0, p.Status.EventsFiltered);
    }
}
