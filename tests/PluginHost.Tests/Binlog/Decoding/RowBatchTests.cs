using System.IO.Compression;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Binlog.Values;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>
/// <see cref="PluginHost.Binlog.Decoding.BinlogEventDecoder.TryDecodeRows"/> (<c>pluginhost decode</c>'s reused batch)
/// decodes every plain rows event of real binlogs to the same rows as <c>Decode</c>'s <see cref="RowsEvent"/>, and
/// leaves every other event alone.
/// </summary>
public sealed class RowBatchTests
{
    [Theory]
    [InlineData("mysql-bin.checksum-crc32")]
    [InlineData("mysql-bin.checksum-none")]
    [InlineData("mysql-bin.sakila.gz")]
    [InlineData("mysql-bin.compressed")]
    public void A_batch_holds_the_rows_decode_gives(string fixture)
    {
        var path = RepoPaths.Fixture(fixture);
        Stream stream = File.OpenRead(path);
        if (path.EndsWith(".gz", StringComparison.Ordinal)) stream = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new BinlogFileReader(stream, fixture, ownsStream: true);
        var batch = new RowBatch();
        int batches = 0, others = 0;
        long rows = 0;
        while (reader.NextSegment() is { Count: > 0 } raw)
        {
            if (!reader.Decoder.TryDecodeRows(raw, batch))
            {
                var e = reader.Decoder.Decode(raw);
                Assert.False(e is RowsEvent r && IsPlain(r), $"{e.Header.EventType} at {e.Header.Position} was left to Decode");
                others++;
                continue;
            }
            batches++;
            var expected = Assert.IsType<RowsEvent>(reader.Decoder.Decode(raw));
            Assert.Equal(expected.Header, batch.Header);
            Assert.Equal(expected.Kind, batch.Kind);
            Assert.Same(expected.Table, batch.Table);
            Assert.Equal(expected.Rows.Count, batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                AssertImage(expected.Rows[i].Before, batch.Before(i));
                AssertImage(expected.Rows[i].After, batch.After(i));
            }
            rows += batch.Count;
        }
        Assert.True(others > 0);
        if (fixture == "mysql-bin.compressed") Assert.Equal(0, batches); // MySQL's transaction payloads go through Decode
        else Assert.True(batches > 0 && rows > 0);
    }

    private static bool IsPlain(RowsEvent r) => r.Header.EventType is >= PluginHost.Binlog.BinlogEventType.WriteRowsV1
        and <= PluginHost.Binlog.BinlogEventType.DeleteRowsV1 or >= PluginHost.Binlog.BinlogEventType.WriteRowsV2
        and <= PluginHost.Binlog.BinlogEventType.DeleteRowsV2;

    private static void AssertImage(ColumnValue[]? expected, ReadOnlySpan<ColumnValue> actual)
    {
        if (expected is null)
        {
            Assert.True(actual.IsEmpty);
            return;
        }
        Assert.Equal(expected.Length, actual.Length);
        for (var c = 0; c < expected.Length; c++)
        {
            Assert.Equal(expected[c].Kind, actual[c].Kind);
            Assert.Equal(expected[c].ToString(), actual[c].ToString());
            Assert.Equal(expected[c].Aux, actual[c].Aux);
            Assert.Equal(expected[c].Scale, actual[c].Scale);
        }
    }
}
