using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using PluginHost.Binlog.Values;
using PluginHost.Schema;
using PluginHost.Sdk;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Replication;

/// <summary>
/// MariaDB's JSON columns (LONGTEXT with a json_valid check) reach the events as embedded JSON over the live client,
/// which learns them from information_schema — also for a JSON column added by an ALTER while it streams, and for
/// table maps without metadata.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class MariaDbJsonTests(MariaDbServer db, ITestOutputHelper output)
{
    private const string Db = "repl_json";

    private static readonly string[] Documents =
    [
        "{\"a\": 1, \"b\": [true, false, null], \"c\": \"é😀\\n\\\"q\\\"\"}",
        "[1, 2.5, -3e10, 12345678901234567890123, \"中文\"]",
        "{\"nested\": {\"deep\": [1, [2, [3, {\"k\": \"Zoë\"}]]]}, \"n\": -1.5e300, \"empty\": {}}",
        "\"just a string with 'quotes'\"",
        "-0.25",
        "true",
        "[]",
        "null", // JSON null: a value, unlike SQL NULL
    ];

    [Fact]
    public async Task Json_columns_stream_as_embedded_json_and_follow_alter_table()
    {
        db.Sql($"DROP DATABASE IF EXISTS {Db}; CREATE DATABASE {Db}; USE {Db}; CREATE TABLE marker (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64));");
        var (file, pos) = Repl.MasterStatus(db);
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, pos), output)), deadline: TimeSpan.FromMinutes(2));
        await reader.ConnectedAsync();

        // 1. Insert, update, delete on a table with a JSON column and a TEXT column holding JSON-looking text.
        var inserts = string.Concat(Documents.Select((d, i) => $"INSERT INTO docs VALUES ({i + 1}, {Lit(d)}, {Lit(d)});\n"));
        db.Sql($"USE {Db}; CREATE TABLE docs (id INT PRIMARY KEY, j JSON, t TEXT CHARACTER SET utf8mb4);\n{inserts}" +
               $"INSERT INTO docs VALUES (100, NULL, NULL);\n" +
               $"UPDATE docs SET j = {Lit(Documents[2])} WHERE id = 1;\n" +
               $"UPDATE docs SET j = NULL WHERE id = 2;\n" +
               $"DELETE FROM docs WHERE id = 3;\n" + Workload.Marker(Db, "one"));
        var first = Changes(await reader.UntilAsync(e => Repl.IsMarker(e, "marker", "one")));

        Assert.Equal(Documents.Length + 4, first.Count);
        for (var i = 0; i < Documents.Length; i++)
        {
            var c = first[i];
            Assert.Equal(ChangeOperation.Insert, c.Event.Op);
            AssertJson(Documents[i], c, "after", "j");
            // A text column is text, whatever it holds.
            Assert.Equal(Documents[i], c.Event.After!["t"]);
            Assert.Equal(Documents[i], c.Line["after"]!["t"]!.GetValue<string>());
        }
        var sqlNull = first[Documents.Length];
        Assert.True(sqlNull.Values.After![1].IsNull);
        Assert.Null(sqlNull.Event.After!["j"]);
        Assert.Null(sqlNull.Line["after"]!["j"]);
        var jsonNull = first[Documents.Length - 1];
        Assert.Equal(ValueKind.Json, jsonNull.Values.After![1].Kind);
        Assert.Equal("null", jsonNull.Values.After![1].JsonText());

        var update = first[Documents.Length + 1];
        Assert.Equal(ChangeOperation.Update, update.Event.Op);
        AssertJson(Documents[0], update, "before", "j");
        AssertJson(Documents[2], update, "after", "j");
        var toNull = first[Documents.Length + 2];
        AssertJson(Documents[1], toNull, "before", "j");
        Assert.True(toNull.Values.After![1].IsNull);
        var delete = first[Documents.Length + 3];
        Assert.Equal(ChangeOperation.Delete, delete.Event.Op);
        Assert.Null(delete.Event.After);
        AssertJson(Documents[2], delete, "before", "j");
        Assert.Equal(ColumnKind.Json, first[0].Event.Schema!.Columns.Single(c => c.Name == "j").Kind);
        Assert.Equal(ColumnKind.Text, first[0].Event.Schema!.Columns.Single(c => c.Name == "t").Kind);

        // 2. While the client streams: a JSON column added by ALTER TABLE (the cached JSON columns must be refreshed).
        db.Sql($"USE {Db}; ALTER TABLE docs ADD COLUMN j2 JSON;\n" +
               $"INSERT INTO docs VALUES (200, {Lit(Documents[1])}, 'x', {Lit(Documents[0])});\n" +
               $"UPDATE docs SET j2 = {Lit(Documents[4])} WHERE id = 1;\n" + Workload.Marker(Db, "two"));
        var second = Changes(await reader.UntilAsync(e => Repl.IsMarker(e, "marker", "two")));
        Assert.Equal(2, second.Count);
        AssertJson(Documents[1], second[0], "after", "j");
        AssertJson(Documents[0], second[0], "after", "j2");
        Assert.True(second[1].Values.Before![3].IsNull);
        AssertJson(Documents[4], second[1], "after", "j2");
        AssertJson(Documents[2], second[1], "after", "j");
        Assert.Equal(ColumnKind.Json, second[0].Event.Schema!.Columns.Single(c => c.Name == "j2").Kind);

        // 3. Table maps without metadata: names and JSON columns both come from information_schema.
        try
        {
            db.Sql($"SET GLOBAL binlog_row_metadata=MINIMAL; USE {Db}; INSERT INTO docs VALUES (300, {Lit(Documents[2])}, 'y', {Lit(Documents[5])});\n" +
                   Workload.Marker(Db, "three"));
        }
        finally
        {
            db.Sql("SET GLOBAL binlog_row_metadata=FULL;");
        }
        var third = Changes(await reader.UntilAsync(e => Repl.IsMarker(e, "marker", "three")));
        var minimal = Assert.Single(third);
        Assert.False(minimal.Map.HasColumnNames);
        AssertJson(Documents[2], minimal, "after", "j");
        AssertJson(Documents[5], minimal, "after", "j2");
        Assert.Equal("y", minimal.Event.After!["t"]);
        Assert.Equal(0, reader.Client.Reconnects);
    }

    [Fact]
    public async Task Savepoints_keep_the_cached_schema_and_only_a_schema_change_queries_information_schema_again()
    {
        const string Sp = "repl_json_sp";
        db.Sql($"DROP DATABASE IF EXISTS {Sp}; CREATE DATABASE {Sp}; USE {Sp}; CREATE TABLE marker (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(64));" +
               "CREATE TABLE docs (id INT PRIMARY KEY, j JSON);");
        var (file, pos) = Repl.MasterStatus(db);
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, pos), output)), deadline: TimeSpan.FromMinutes(2));
        await reader.ConnectedAsync();

        db.Sql($"USE {Sp}; INSERT INTO docs VALUES (1, '[1]');" + Workload.Marker(Sp, "a"));
        await reader.UntilAsync(e => Repl.IsMarker(e, "marker", "a"));
        Assert.Equal(1, reader.Client.InformationSchemaQueries); // the JSON columns of docs

        // Transactions with savepoints (as ORMs write nested transactions): SAVEPOINT and ROLLBACK TO are logged as
        // statements inside each transaction, and must not send every transaction back to information_schema.
        var transactions = string.Concat(Enumerable.Range(0, 20).Select(i =>
            $"BEGIN; INSERT INTO docs VALUES ({100 + 2 * i}, '{{\"n\": {i}}}'); SAVEPOINT s1; INSERT INTO docs VALUES ({101 + 2 * i}, '[]'); " +
            $"ROLLBACK TO SAVEPOINT s1; SAVEPOINT s2; RELEASE SAVEPOINT s2; COMMIT;\n"));
        db.Sql($"USE {Sp}; {transactions}" + Workload.Marker(Sp, "b"));
        var events = await reader.UntilAsync(e => Repl.IsMarker(e, "marker", "b"));
        Assert.Contains(events, e => e is QueryEvent q && q.Sql.StartsWith("SAVEPOINT", StringComparison.OrdinalIgnoreCase));
        var rows = events.OfType<RowsEvent>().Where(r => r.Table.Table == "docs").SelectMany(r => r.Rows).ToList();
        Assert.Equal(20, rows.Count);
        Assert.All(rows, r => Assert.Equal(ValueKind.Json, r.After![1].Kind));
        Assert.Equal(1, reader.Client.InformationSchemaQueries);

        db.Sql($"USE {Sp}; ALTER TABLE docs ADD COLUMN j2 JSON; INSERT INTO docs VALUES (1000, '1', '2');" + Workload.Marker(Sp, "c"));
        events = await reader.UntilAsync(e => Repl.IsMarker(e, "marker", "c"));
        var after = events.OfType<RowsEvent>().Single(r => r.Table.Table == "docs").Rows.Single().After!;
        Assert.Equal(ValueKind.Json, after[2].Kind); // the added column, learnt after the ALTER
        Assert.Equal(2, reader.Client.InformationSchemaQueries);
    }

    [Theory]
    [InlineData("ALTER TABLE t ADD COLUMN c INT", true)]
    [InlineData("  create table t (id int)", true)]
    [InlineData("DROP TABLE `t` /* generated by server */", true)]
    [InlineData("RENAME TABLE a TO b", true)]
    [InlineData("/* a comment */ ALTER TABLE t DROP COLUMN c", true)]
    [InlineData("/*!40000 ALTER TABLE `t` DISABLE KEYS */", true)]
    [InlineData("GRANT SELECT ON db.* TO u", true)]
    [InlineData("SAVEPOINT `s1`", false)]
    [InlineData("ROLLBACK TO `s1`", false)]
    [InlineData("RELEASE SAVEPOINT s1", false)]
    [InlineData("XA END X'31',X'',1", false)]
    [InlineData("BEGIN", false)]
    [InlineData("COMMIT", false)]
    [InlineData("TRUNCATE TABLE t", false)]
    [InlineData("INSERT INTO t VALUES (1)", false)]
    [InlineData("/* unterminated", false)]
    public void Only_statements_that_change_tables_or_grants_drop_the_cached_schema(string sql, bool change) =>
        Assert.Equal(change, QueryEvent.FirstKeywordIsSchemaChange(sql));

    [Theory]
    [InlineData("json_valid(`j`)", "j")]
    [InlineData("JSON_VALID(`Data Col`)", "Data Col")]
    [InlineData("json_valid(`a``b`)", "a`b")]
    [InlineData("json_valid(`a`) and `b` > 0", null)]
    [InlineData("json_valid(`a`) or json_valid(`b`)", null)]
    [InlineData("`n` > 0", null)]
    [InlineData("json_valid(j)", null)]
    public void Only_a_plain_json_valid_check_marks_a_column(string clause, string? column) =>
        Assert.Equal(column, InformationSchemaText.JsonValidColumn(clause));

    private sealed record Change(TableMapEvent Map, RowChange Values, ChangeEvent Event, JsonNode Line);

    /// <summary>The docs-table rows of the events, each as decoded values, sdk event and its event-JSON line.</summary>
    private static List<Change> Changes(List<BinlogEvent> events)
    {
        var factory = new ChangeEventFactory();
        var result = new List<Change>();
        foreach (var rows in events.OfType<RowsEvent>().Where(r => r.Table.Database == Db && r.Table.Table == "docs"))
        {
            var info = factory.TableInfoOf(rows.Table);
            foreach (var row in rows.Rows)
            {
                var e = factory.Create(rows, row, info);
                result.Add(new Change(rows.Table, row, e, JsonNode.Parse(ChangeEventJson.Serialize(e))!));
            }
        }
        return result;
    }

    /// <summary>The column holds <paramref name="document"/> as embedded JSON: in the decoded value, in the sdk value
    /// (a JsonNode), in the event JSON line, and in <c>pluginhost decode</c>'s writer.</summary>
    private static void AssertJson(string document, Change c, string image, string column)
    {
        var expected = JsonNode.Parse(document);
        var values = image == "after" ? c.Values.After! : c.Values.Before!;
        var index = c.Map.Columns.Single(x => x.Name == column).Index;
        Assert.True(c.Map.Columns[index].IsJson, $"{column} not marked as JSON");
        Assert.Equal(ValueKind.Json, values[index].Kind);
        Assert.True(values[index].IsJsonText);

        var row = image == "after" ? c.Event.After! : c.Event.Before!;
        var sdk = row[column];
        if (document == "null") Assert.Null(sdk);
        else Assert.True(JsonNode.DeepEquals(expected, Assert.IsAssignableFrom<JsonNode>(sdk)), $"{column}: sdk value {sdk}");

        var line = c.Line[image]![column];
        Assert.True(JsonNode.DeepEquals(expected, line), $"{column}: event JSON {line?.ToJsonString()} is not {document}");
        if (expected is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
            Assert.NotEqual(JsonValueKind.String, line?.GetValueKind() ?? JsonValueKind.Null);

        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, ChangeEventJson.WriterOptions)) ColumnValueJson.Write(w, values[index]);
        var sdkBuffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(sdkBuffer, ChangeEventJson.WriterOptions)) ChangeEventJson.WriteValue(w, sdk, null);
        Assert.Equal(Encoding.UTF8.GetString(sdkBuffer.WrittenSpan), Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static string Lit(string document) => $"_utf8mb4 X'{Convert.ToHexString(Encoding.UTF8.GetBytes(document))}'";
}
