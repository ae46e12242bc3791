using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Sdk;

namespace PluginHost.Tests.Sdk;

/// <summary>
/// The event JSON writer gives exactly the bytes it gave before it formatted numbers and dates straight into UTF-8
/// and wrote rows of a table's own layout by column position (<see cref="LegacyEventJson"/>, the old code): tricky
/// values one by one, then thousands of random events, each row once over the table's layout (the fast path) and once
/// built column by column (the lookup path). Every line also parses as JSON.
/// </summary>
public sealed class EventJsonWriterParityTests
{
    private static readonly TableInfo Schema = new("shop", "tricky",
    [
        new ColumnInfo("id", ColumnKind.Integer, IsPrimaryKey: true),
        new ColumnInfo("name", ColumnKind.Text),
        new ColumnInfo("amount", ColumnKind.Decimal),
        new ColumnInfo("dt", ColumnKind.DateTime, FractionDigits: 0),
        new ColumnInfo("dt3", ColumnKind.DateTime, FractionDigits: 3),
        new ColumnInfo("ts6", ColumnKind.Timestamp, FractionDigits: 6),
        new ColumnInfo("t2", ColumnKind.Time, FractionDigits: 2),
        new ColumnInfo("d", ColumnKind.Date),
        new ColumnInfo("dbl", ColumnKind.Double),
        new ColumnInfo("u", ColumnKind.Integer),
        new ColumnInfo("bin", ColumnKind.Binary),
        new ColumnInfo("qu\"ote é", ColumnKind.Text),
        new ColumnInfo("any", ColumnKind.Text),
    ]);

    private static readonly object?[] Tricky =
    [
        null, "", "plain", "Ann \"the\" O'Neil\\ é 中文 😀 \n\t\r\b\f\u0001\u001f\u007f <b>&'+", "\u2028\u2029", new string('x', 5000) + "é",
        0L, -1L, long.MinValue, long.MaxValue, 7, int.MinValue, ulong.MaxValue, 0UL, (short)-3, (byte)200, (sbyte)-8, (ushort)65535, 4_000_000_000u,
        0m, -0.00m, 12345.6700m, 79228162514264337593543950335m, -79228162514264337593543950335m, 0.0000000000000000000000000001m, 1.5e10m,
        new DateTime(1, 1, 1), DateTime.MaxValue, new DateTime(2026, 1, 2, 3, 4, 5), new DateTime(2026, 1, 2, 3, 4, 5).AddTicks(1_200_000),
        new DateTime(1000, 1, 1).AddTicks(10), new DateTime(9999, 12, 31, 23, 59, 59).AddTicks(9_999_999), new DateTime(2024, 2, 29, 12, 0, 0, DateTimeKind.Utc),
        new DateTimeOffset(2038, 1, 19, 3, 14, 7, TimeSpan.Zero), new DateTimeOffset(2026, 11, 21, 0, 30, 0, TimeSpan.FromHours(2)).AddTicks(4_500_000),
        new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.FromHours(-14)), DateTimeOffset.MinValue, DateTimeOffset.MaxValue,
        TimeSpan.Zero, new TimeSpan(0, 1, 2, 3), -new TimeSpan(0, 838, 59, 59).Add(TimeSpan.FromTicks(9_999_990)), new TimeSpan(0, 100, 0, 0),
        TimeSpan.MaxValue, TimeSpan.FromTicks(-1), new TimeSpan(3, 0, 0, 0).Add(TimeSpan.FromTicks(1_234_567)),
        new DateOnly(1, 1, 1), new DateOnly(9999, 12, 31), new DateOnly(2026, 11, 21),
        0.1 + 0.2, -0.0, 1e308, double.Epsilon, double.NaN, double.PositiveInfinity, 0.1f, float.NegativeInfinity, 3.0,
        true, false, Array.Empty<byte>(), new byte[] { 0, 1, 2, 0xFF, 0x10 }, new[] { "a", "c" }, Array.Empty<string>(),
        JsonNode.Parse("""{"a":[1,2.5,"x",null,true],"b":{"c":"é"}}"""), JsonNode.Parse("\"text\""), JsonDocument.Parse("[1,\"é\"]").RootElement,
        new Row { ["nested"] = new DateTime(2026, 1, 1), ["n"] = 1m }, new Dictionary<string, object?> { ["k"] = new DateOnly(2026, 5, 6) },
        Guid.Parse("6f9619ff-8b86-d011-b42d-00c04fc964ff"), 'c',
    ];

    [Fact]
    public void Every_tricky_value_in_every_column_is_written_as_the_old_writer_wrote_it()
    {
        var lines = 0;
        for (var column = 0; column < Schema.Columns.Count; column++)
            foreach (var value in Tricky)
            {
                var values = new object?[Schema.Columns.Count];
                values[column] = value;
                AssertSameBytes(Event(values, new DateTimeOffset(2026, 11, 21, 10, 0, 0, TimeSpan.Zero)));
                lines++;
            }
        Assert.Equal(Schema.Columns.Count * Tricky.Length, lines);
    }

    [Fact]
    public void Thousands_of_random_events_are_written_as_the_old_writer_wrote_them()
    {
        var random = new Random(20261206);
        for (var n = 0; n < 5000; n++)
        {
            var values = new object?[Schema.Columns.Count];
            for (var i = 0; i < values.Length; i++) values[i] = RandomValue(random, i);
            var ts = DateTimeOffset.FromUnixTimeSeconds(random.NextInt64(0, 253_402_300_799));
            var e = Event(values, ts);
            e.Op = (ChangeOperation)random.Next(0, 4);
            if (random.Next(4) == 0) e.Before = e.After!.Clone();
            if (random.Next(8) == 0) e.Extra["attempt"] = RandomValue(random, random.Next(values.Length));
            AssertSameBytes(e);
        }
    }

    [Fact]
    public void Plain_text_of_dates_and_times_for_keys_is_what_it_was()
    {
        foreach (var value in Tricky)
            if (value is DateTime or DateTimeOffset or DateOnly or TimeSpan)
                Assert.Equal(LegacyEventJson.FormatScalar(value), ChangeEventJson.FormatScalar(value));
    }

    [Fact]
    public void A_row_that_a_transform_gave_another_column_leaves_the_fast_path_and_writes_every_column()
    {
        var values = new object?[Schema.Columns.Count + 1];
        values[0] = 1L;
        values[3] = new DateTime(2026, 1, 2, 3, 4, 5, 678);
        var e = Event(values, DateTimeOffset.UnixEpoch);
        e.After!["added"] = "x";
        e.After.Remove("name");
        var json = AssertSameBytes(e, rebuild: false);
        Assert.Contains("\"added\":\"x\"", json);
        Assert.DoesNotContain("\"name\"", json);
        Assert.Contains("\"dt\":\"2026-01-02 03:04:05\"", json); // still typed by the schema: 0 fraction digits
    }

    private static object? RandomValue(Random r, int column) => r.Next(12) == 0 ? null : column switch
    {
        0 => r.NextInt64(long.MinValue, long.MaxValue),
        1 or 11 or 12 => RandomText(r),
        2 => new decimal(r.Next(), r.Next(), r.Next(), r.Next(2) == 0, (byte)r.Next(0, 29)),
        3 or 4 => new DateTime(r.NextInt64(DateTime.MinValue.Ticks, DateTime.MaxValue.Ticks)),
        5 => new DateTimeOffset(r.NextInt64(DateTime.MinValue.Ticks + TimeSpan.TicksPerDay, DateTime.MaxValue.Ticks - TimeSpan.TicksPerDay), TimeSpan.FromMinutes(r.Next(-14 * 60, 14 * 60))),
        6 => TimeSpan.FromTicks(r.NextInt64(-TimeSpan.TicksPerDay * 40, TimeSpan.TicksPerDay * 40)),
        7 => DateOnly.FromDayNumber(r.Next(DateOnly.MinValue.DayNumber, DateOnly.MaxValue.DayNumber)),
        8 => r.Next(3) == 0 ? (double)r.Next() : BitConverter.Int64BitsToDouble(r.NextInt64()),
        9 => (ulong)r.NextInt64() * 2 + (ulong)r.Next(2),
        _ => r.Next(3) switch { 0 => Convert.FromBase64String("AAEC/w=="), 1 => Tricky[r.Next(Tricky.Length)], _ => r.NextSingle() * 1e6f },
    };

    private static string RandomText(Random r)
    {
        var chars = new char[r.Next(0, 40)];
        for (var i = 0; i < chars.Length; i++)
            chars[i] = r.Next(6) switch { 0 => (char)r.Next(0, 0x20), 1 => "\"\\'<>&+`"[r.Next(8)], 2 => (char)r.Next(0x80, 0x800), 3 => (char)r.Next(0x3000, 0xD000), _ => (char)r.Next(0x20, 0x7F) };
        return new string(chars);
    }

    private static ChangeEvent Event(object?[] values, DateTimeOffset ts) => new()
    {
        Op = ChangeOperation.Read,
        Database = "shop",
        Table = "tricky",
        After = new Row(Schema.RowLayout!, values),
        Schema = Schema,
        Gtid = "0-1-42",
        File = "mysql-bin.000007",
        Position = 1234567,
        Timestamp = ts,
    };

    /// <summary>The new writer's line equals the old one's: the event as given, and (when asked) its rows rebuilt column by column.</summary>
    private static string AssertSameBytes(ChangeEvent e, bool rebuild = true)
    {
        var expected = Bytes(LegacyEventJson.Write, e);
        var actual = Bytes(ChangeEventJson.Write, e);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(expected), System.Text.Encoding.UTF8.GetString(actual));
        Assert.True(expected.AsSpan().SequenceEqual(actual));
        if (rebuild)
        {
            var copy = e.Clone();
            copy.After = Rebuilt(e.After);
            copy.Before = Rebuilt(e.Before);
            Assert.True(actual.AsSpan().SequenceEqual(Bytes(ChangeEventJson.Write, copy)));
        }
        using var parsed = JsonDocument.Parse(actual);
        Assert.Equal(JsonValueKind.Object, parsed.RootElement.ValueKind);
        return System.Text.Encoding.UTF8.GetString(actual);
    }

    private static Row? Rebuilt(Row? row)
    {
        if (row is null) return null;
        var copy = new Row(row.Count);
        foreach (var (k, v) in row) copy.Add(k, v);
        return copy;
    }

    private static byte[] Bytes(Action<Utf8JsonWriter, ChangeEvent> write, ChangeEvent e)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, ChangeEventJson.WriterOptions)) write(w, e);
        return buffer.WrittenSpan.ToArray();
    }
}
