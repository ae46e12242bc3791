using System.Buffers.Binary;
using System.Text.Json;
using PluginHost.Binlog;
using PluginHost.Tests.Support;
using static PluginHost.Tests.Binlog.Decoding.MySql8EventBuilder;
using static PluginHost.Tests.Support.BinlogEventBuilder;

namespace PluginHost.Tests.Binlog.Files;

/// <summary><c>pluginhost decode</c> as a process on binlog files holding MySQL 8.4 events: tagged GTIDs and partial
/// JSON updates print their rows; an event that cannot be decoded is named with its type, position and file.</summary>
[Trait("Category", "Integration")]
public sealed class DecodeMySql8EventsProcessTests
{
    private const string Uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3);
    private static readonly IReadOnlyList<Col> Columns = [new(ColumnType.Long, []), new(ColumnType.Json, [4])];
    private static readonly (byte, byte[])[] Names = [(4, [.. LenEncString("id"), .. LenEncString("doc")])];

    /// <summary>A binlog file: the magic bytes, then the events with their next positions set.</summary>
    private static byte[] File(params byte[][] events)
    {
        var file = new List<byte>(BinlogFileReaderMagic);
        foreach (var e in events)
        {
            var copy = (byte[])e.Clone();
            BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(13), (uint)(file.Count + copy.Length));
            file.AddRange(copy);
        }
        return file.ToArray();
    }

    private static readonly byte[] BinlogFileReaderMagic = [0xFE, (byte)'b', (byte)'i', (byte)'n'];

    private static byte[] Update(string path) => PartialUpdateRows(9, 2,
        (Image(LE32(1), JsonValue("{\"n\":1,\"tags\":[\"a\"]}")), [1, 1], Image(LE32(1), Diffs((0, path, "2"), (1, "$.tags[1]", "\"b\"")))));

    [Fact]
    public async Task Tagged_gtids_and_partial_json_updates_print_their_rows_and_a_bad_diff_names_type_position_and_file()
    {
        var dir = TestTemp.CreateSubdirectory("decode-mysql8");
        var good = Path.Combine(dir.FullName, "binlog.000001");
        await System.IO.File.WriteAllBytesAsync(good, File(FormatDescription("8.4.0"), TaggedGtid(Uuid, "etl", 17),
            TableMap(9, "shop", "items", Columns, Names), Update("$.n"), ControlEventBuilder.Xid(3)));
        var badBytes = File(FormatDescription("8.4.0"), TaggedGtid(Uuid, "etl", 18),
            TableMap(9, "shop", "items", Columns, Names), Update("$.missing"), ControlEventBuilder.Xid(4));
        var bad = Path.Combine(dir.FullName, "binlog.000002");
        await System.IO.File.WriteAllBytesAsync(bad, badBytes);
        var badAt = FormatDescription("8.4.0").Length + 4 + TaggedGtid(Uuid, "etl", 18).Length + TableMap(9, "shop", "items", Columns, Names).Length;

        var result = await HostCommand.RunAsync(HangGuard, "decode", good, bad);

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var row = JsonDocument.Parse(line).RootElement;
        Assert.Equal("update", row.GetProperty("op").GetString());
        Assert.Equal($"{Uuid}:etl:17", row.GetProperty("gtid").GetString());
        Assert.Equal("{\"n\":2,\"tags\":[\"a\",\"b\"]}", row.GetProperty("after").GetProperty("doc").GetRawText());
        Assert.Equal("{\"n\":1,\"tags\":[\"a\"]}", row.GetProperty("before").GetProperty("doc").GetRawText());
        var error = result.StandardError.Trim();
        Assert.Contains(bad, error);
        Assert.Contains($"PartialUpdateRows event at position {badAt}", error);
        Assert.Contains("shop.items.doc", error);
        Assert.Contains("$.missing", error);
    }
}
