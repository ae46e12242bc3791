using System.Text.Json.Nodes;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Webhook;

/// <summary>
/// Per-row order where the row's identity is not simply its after-image key: tables without a primary key, and
/// updates that change the primary key. Real MariaDB, real receiver that slows some requests down so that a later
/// event on another lane would overtake them if the lanes were chosen wrongly.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class WebhookOrderingTests(MariaDbServer db, ITestOutputHelper output)
{
    private static readonly TimeSpan CatchUp = TimeSpan.FromSeconds(60);

    private static JsonObject Sink(WebhookReceiver receiver, string url) => new()
    {
        ["type"] = "webhook", ["callback_host"] = receiver.BaseUrl, ["worker_count"] = 16,
        ["tasks"] = new JsonArray(new JsonObject { ["table"] = "t", ["url"] = url }),
    };

    /// <summary>"op id v" or, for an update that changes the key, "u old→new v".</summary>
    private static string Describe(JsonObject e)
    {
        var op = e["op"]!.GetValue<string>();
        var before = e["before"] as JsonObject;
        var after = e["after"] as JsonObject;
        var image = (after ?? before)!;
        if (op == "update" && before!["id"]!.GetValue<long>() != after!["id"]!.GetValue<long>())
            return $"u {before["id"]}→{after["id"]} v{after["v"]}";
        return $"{op[0]} {image["id"]} v{image["v"]}";
    }

    private static bool Touches(JsonObject e, long id) =>
        (e["before"] as JsonObject)?["id"]?.GetValue<long>() == id || (e["after"] as JsonObject)?["id"]?.GetValue<long>() == id;

    [Fact]
    public async Task A_table_without_a_primary_key_keeps_commit_order_when_requests_are_slow()
    {
        db.Sql("DROP DATABASE IF EXISTS wh_keyless; CREATE DATABASE wh_keyless; CREATE TABLE wh_keyless.t (id INT NOT NULL, v INT NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        // Every insert is slow: an update of the same row on another lane would arrive first.
        receiver.Respond = r => r.Events().First()["op"]!.GetValue<string>() == "insert" ? new Reply(Delay: TimeSpan.FromMilliseconds(250)) : new Reply();
        await using var p = await WebhookPipeline.StartAsync(db, "keyless", "wh_keyless", Sink(receiver, "/keyless"), output);
        await p.RunningAsync();
        db.Sql("""
            INSERT INTO t VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0);
            UPDATE t SET v = 1;
            UPDATE t SET v = 2 WHERE id = 3;
            DELETE FROM t WHERE id = 6;
            """, "wh_keyless");
        await p.CaughtUpAsync(db, CatchUp);
        var got = receiver.Events().Select(e => Describe(e.Event)).ToList();
        output.WriteLine(string.Join(", ", got));
        // Without a key a row has no identity that survives an update: the whole table keeps commit order.
        string[] expected =
        [
            "i 1 v0", "i 2 v0", "i 3 v0", "i 4 v0", "i 5 v0", "i 6 v0",
            "u 1 v1", "u 2 v1", "u 3 v1", "u 4 v1", "u 5 v1", "u 6 v1",
            "u 3 v2", "d 6 v1",
        ];
        Assert.Equal(expected, got);
    }

    /// <summary>
    /// For each n: <c>UPDATE … v = 1 WHERE id = n</c>; <c>UPDATE t SET id = n + 100 WHERE id = n</c>;
    /// <c>UPDATE … v = 2 WHERE id = n + 100</c>; <c>INSERT (n, 9)</c> (a new row on the old key). For odd n the first
    /// update is slow (the key change must wait for it), for even n the key change is slow (the update of the new key
    /// and the insert on the old key must wait for it). The moved row's events, and the old key's, arrive in commit order.
    /// </summary>
    [Fact]
    public async Task An_update_that_changes_the_primary_key_is_ordered_with_both_keys()
    {
        db.Sql("DROP DATABASE IF EXISTS wh_rekey; CREATE DATABASE wh_rekey; CREATE TABLE wh_rekey.t (id INT PRIMARY KEY, v INT NOT NULL);");
        await using var receiver = await WebhookReceiver.StartAsync();
        var slow = new Reply(Delay: TimeSpan.FromMilliseconds(400));
        receiver.Respond = r =>
        {
            var e = r.Events().First();
            if (e["op"]!.GetValue<string>() != "update") return new Reply();
            var before = e["before"]!["id"]!.GetValue<long>();
            var after = e["after"]!["id"]!.GetValue<long>();
            var v = e["after"]!["v"]!.GetValue<long>();
            if (before == after && v == 1 && before % 2 == 1) return slow;
            if (before != after && before % 2 == 0) return slow;
            return new Reply();
        };
        await using var p = await WebhookPipeline.StartAsync(db, "rekey", "wh_rekey", Sink(receiver, "/rekey"), output);
        await p.RunningAsync();
        const int groups = 8;
        db.Sql($"INSERT INTO t SELECT seq, 0 FROM seq_1_to_{groups};", "wh_rekey");
        await p.CaughtUpAsync(db, CatchUp);
        var sql = new System.Text.StringBuilder();
        for (var n = 1; n <= groups; n++)
            sql.Append($"UPDATE t SET v = 1 WHERE id = {n}; UPDATE t SET id = {n + 100} WHERE id = {n}; UPDATE t SET v = 2 WHERE id = {n + 100}; INSERT INTO t VALUES ({n}, 9);\n");
        db.Sql(sql.ToString(), "wh_rekey");
        await p.CaughtUpAsync(db, CatchUp);
        var events = receiver.Events().Select(e => e.Event).ToList();
        Assert.Equal(groups * 5, events.Count);
        for (var n = 1; n <= groups; n++)
        {
            var got = events.Where(e => Touches(e, n) || Touches(e, n + 100)).Select(Describe).ToList();
            output.WriteLine($"{n}: {string.Join(", ", got)}");
            // The row, through its key change; and the old key, whose new row comes after the key change. (The new
            // row on the old key and the moved row are different rows: their order between them is free.)
            Assert.Equal([$"i {n} v0", $"u {n} v1", $"u {n}→{n + 100} v1", $"u {n + 100} v2"], got.Where(d => d != $"i {n} v9"));
            Assert.Equal([$"i {n} v0", $"u {n} v1", $"u {n}→{n + 100} v1", $"i {n} v9"], got.Where(d => d != $"u {n + 100} v2"));
        }
    }
}
