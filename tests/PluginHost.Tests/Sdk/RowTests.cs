using PluginHost.Sdk;

namespace PluginHost.Tests.Sdk;

/// <summary>Row: dictionary semantics in column order, over column names shared by the rows of a table.</summary>
public sealed class RowTests
{
    private static readonly string[] Names = ["id", "name", "amount"];

    [Fact]
    public void Rows_of_one_layout_keep_their_own_values_and_a_change_to_one_never_shows_in_another()
    {
        var layout = new RowLayout(Names);
        var a = new Row(layout, [1L, "Ann", 10m]);
        var b = new Row(layout, [2L, "Bob", null]);
        a["extra"] = true;          // a gets its own names
        b.Remove("name");           // so does b
        a["name"] = "Anne";         // replaces, keeps the position

        Assert.Equal(["id", "name", "amount", "extra"], a.Keys);
        Assert.Equal([1L, "Anne", 10m, true], a.Values);
        Assert.Equal(["id", "amount"], b.Keys);
        Assert.Equal([2L, null], b.Values);
        Assert.Equal(3, layout.Count); // the shared layout never changed
        Assert.Equal(["id", "name", "amount"], new Row(layout, [3L, "Cy", 1m]).Keys);
    }

    [Fact]
    public void Rows_that_gain_the_same_column_share_the_extended_names_and_stay_independent()
    {
        var layout = new RowLayout(Names);
        var a = new Row(layout, [1L, "Ann", 10m, null]); // with room for one more value
        var b = new Row(layout, [2L, "Bob", 20m]);
        a["changed"] = 1;
        b["changed"] = 2;
        a["only_a"] = true;
        Assert.Equal(["id", "name", "amount", "changed", "only_a"], a.Keys);
        Assert.Equal(["id", "name", "amount", "changed"], b.Keys);
        Assert.Equal([2L, "Bob", 20m, 2], b.Values);
        b.Remove("name");
        Assert.Equal(["id", "name", "amount", "changed", "only_a"], a.Keys);
        Assert.Equal([1L, "Ann", 10m, 1, true], a.Values);
    }

    [Fact]
    public void Reads_of_absent_columns_give_null_and_present_nulls_are_still_present()
    {
        var row = new Row(new RowLayout(Names), [1L, null, 2m]);
        Assert.Null(row["nope"]);
        Assert.False(row.ContainsKey("nope"));
        Assert.False(row.TryGetValue("nope", out _));
        Assert.True(row.ContainsKey("name"));
        Assert.True(row.TryGetValue("name", out var v));
        Assert.Null(v);
        Assert.Equal(2m, row.Get<decimal>("amount"));
        Assert.Equal(0L, row.Get<long>("nope"));
    }

    [Fact]
    public void Add_refuses_a_second_column_of_the_same_name_and_remove_keeps_the_order_of_the_rest()
    {
        var row = new Row { ["a"] = 1, ["b"] = 2, ["c"] = 3 };
        Assert.Throws<ArgumentException>(() => row.Add("b", 9));
        Assert.True(row.Remove("b"));
        Assert.False(row.Remove("b"));
        row.Add("d", 4);
        Assert.Equal("a=1, c=3, d=4", row.ToString());
        Assert.Equal([new("a", 1), new("c", 3), new KeyValuePair<string, object?>("d", 4)], row.ToList());
    }

    [Fact]
    public void CopyFrom_makes_an_independent_copy_and_reuses_its_storage()
    {
        var layout = new RowLayout(["id", "name", "note"]);
        var schema = new TableInfo("d", "t", [new ColumnInfo("id", ColumnKind.Integer, true), new ColumnInfo("name", ColumnKind.Text), new ColumnInfo("note", ColumnKind.Text)]);
        ChangeEvent Read(long id, string name) => new()
        {
            Op = ChangeOperation.Update, Database = "d", Table = "t", Schema = schema, Gtid = "0-1-" + id, File = "b.000001", Position = id,
            Timestamp = DateTimeOffset.FromUnixTimeSeconds(id), TransactionId = "tx" + id, IndexInTransaction = 2,
            Before = new Row(layout, [id, "old", null]), After = new Row(layout, [id, name, null]),
        };
        var copy = new ChangeEvent();
        var first = Read(1, "Ann");
        first.Extra["mark"] = 1;
        copy.CopyFrom(first);
        Assert.Equal(ChangeEventJson.Serialize(first), ChangeEventJson.Serialize(copy));
        var (after, before) = (copy.After, copy.Before);

        // A script changing the event (rows, columns, Extra, routing) leaves the copy as read.
        var expected = ChangeEventJson.Serialize(first);
        first.After!["name"] = "changed";
        first.After["added"] = true;
        first.Before!.Remove("note");
        first.Extra["mark"] = 2;
        first.Extra["more"] = "x";
        first.Table = "elsewhere";
        first.Destination = "topic";
        Assert.Equal(expected, ChangeEventJson.Serialize(copy));
        Assert.Null(copy.After!["added"]);

        // The next event: the same row objects hold it; nothing of the previous one is left (Extra, a before image).
        var second = Read(2, "Bob");
        second.Before = null;
        second.Op = ChangeOperation.Insert;
        copy.CopyFrom(second);
        Assert.Equal(ChangeEventJson.Serialize(second), ChangeEventJson.Serialize(copy));
        Assert.Same(after, copy.After);
        Assert.Null(copy.Before);
        Assert.False(copy.HasExtra);
        copy.CopyFrom(first); // a wider row (an added column) after a narrower one, and the before image back
        Assert.Equal(ChangeEventJson.Serialize(first), ChangeEventJson.Serialize(copy));
        Assert.Same(before, copy.Before);

        // A clone of the copy has rows of its own: copying into one does not change the other.
        var clone = copy.Clone();
        clone.CopyFrom(second);
        Assert.Equal(ChangeEventJson.Serialize(first), ChangeEventJson.Serialize(copy));
    }

    [Fact]
    public void Clones_are_independent_and_enumerating_while_adding_a_column_throws()
    {
        var row = new Row(new RowLayout(Names), [1L, "Ann", 10m]);
        var copy = row.Clone();
        copy["name"] = "Changed";
        copy["more"] = 1;
        row["other"] = 2;
        Assert.Equal("Ann", row["name"]);
        Assert.False(row.ContainsKey("more"));
        Assert.False(copy.ContainsKey("other"));
        Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var kv in row) row[kv.Key + "_x"] = 1;
        });
        foreach (var kv in copy) copy[kv.Key] = kv.Value; // replacing values while enumerating is fine
    }

    [Fact]
    public void Wide_rows_find_columns_by_name_and_a_layout_refuses_repeated_names()
    {
        var names = Enumerable.Range(0, 40).Select(i => "c" + i).ToArray();
        var row = new Row(new RowLayout(names), names.Select(n => (object?)n.ToUpperInvariant()).ToArray());
        Assert.All(names, n => Assert.Equal(n.ToUpperInvariant(), row[n]));
        row.Remove("c5");
        row["c40"] = "C40";
        Assert.Null(row["c5"]);
        Assert.Equal("C39", row["c39"]);
        Assert.Equal("C40", row["c40"]);
        Assert.Equal(40, row.Count);
        var built = new Row();
        foreach (var n in names) built[n] = n;
        Assert.Equal(names, built.Keys);
        Assert.Equal("c33", built["c33"]);
        Assert.Throws<ArgumentException>(() => new RowLayout(["a", "b", "a"]));
    }
}
