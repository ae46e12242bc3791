using System.Diagnostics;
using PluginHost.Binlog;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Binlog.Values;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>Real binlogs written by MySQL servers (shared/fixtures/mysql-binlogs), decoded completely and compared
/// value for value with mariadb-binlog where it can read them.</summary>
[Trait("Category", "Integration")]
public sealed class MySqlFixtureTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("mysql-bin.sakila.gz", 47_273, 0, 0)]
    [InlineData("mysql-bin.checksum-crc32", 34, 23, 6)]
    [InlineData("mysql-bin.checksum-none", 34, 2, 0)]
    [InlineData("mysql-bin.aurora-padding", 0, 0, 0)]
    public void Fixture_decodes_completely_with_the_documented_row_counts(string file, int inserts, int updates, int deletes)
    {
        var counts = CountRows(RepoPaths.Fixture(file), out var events, out var materialised);
        output.WriteLine($"{file}: {events} events, {materialised} values materialised, rows I/U/D {counts.I}/{counts.U}/{counts.D}");
        Assert.Equal((inserts, updates, deletes), counts);
    }

    [Fact]
    public void Compressed_transaction_payloads_decode_to_rows()
    {
        var path = RepoPaths.Fixture("mysql-bin.compressed");
        var payloads = 0;
        var innerRows = 0;
        RowChange? updated = null;
        using (var reader = new BinlogFileReader(path))
        {
            Assert.Equal(ChecksumAlgorithm.Crc32, ((FormatDescriptionEvent)reader.ReadEvent()!).Checksum);
            while (reader.ReadEvent() is { } e)
            {
                if (e is not TransactionPayloadEvent tp) continue;
                payloads++;
                Assert.Equal(0, tp.CompressionType);
                Assert.IsType<QueryEvent>(tp.Events[0]); // BEGIN
                Assert.True(tp.Events[^1] is XidEvent or QueryEvent, "a payload ends with its COMMIT/XID");
                foreach (var inner in tp.Events.OfType<RowsEvent>())
                foreach (var row in inner.Rows)
                {
                    if (inner.Kind == RowChangeKind.Update && inner.Table.FullName == "demo.movies") updated = row;
                    innerRows++;
                    output.WriteLine($"{inner.Kind} {inner.Table.FullName} before=[{Show(row.Before)}] after=[{Show(row.After)}]");
                }
            }
        }
        var counts = CountRows(path, out var events, out _);
        output.WriteLine($"compressed: {events} events, {payloads} payloads, rows I/U/D {counts.I}/{counts.U}/{counts.D}");
        Assert.True(payloads > 0, "no TRANSACTION_PAYLOAD event found");
        // The one row: an UPDATE of demo.movies adding "Action" to the genre of "Once Upon a Time in the West".
        Assert.Equal("Western", updated!.Value.Before![4].AsString());
        Assert.Equal("Western|Action", updated.Value.After![4].AsString());
        Assert.Equal("Once Upon a Time in the West", updated.Value.After![1].AsString());
        Assert.Equal("1", updated.Value.After![0].ToString());
        Assert.True(innerRows > 0, "no rows inside the payloads");
        Assert.Equal(innerRows, counts.I + counts.U + counts.D);
    }

    [Theory]
    [InlineData("mysql-bin.checksum-crc32")]
    [InlineData("mysql-bin.checksum-none")]
    [InlineData("mysql-bin.sakila.gz")]
    public void Fixture_values_match_mariadb_binlog(string file)
    {
        var path = RepoPaths.Fixture(file);
        var sw = Stopwatch.StartNew();
        string oracleInput = path;
        string? temp = null;
        if (path.EndsWith(".gz", StringComparison.Ordinal))
        {
            temp = Path.Combine(Path.GetTempPath(), "pluginhost-" + Guid.NewGuid().ToString("N")[..8] + "-" + Path.GetFileName(path)[..^3]);
            using (var gz = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress))
            using (var f = File.Create(temp)) gz.CopyTo(f);
            oracleInput = temp;
        }
        try
        {
            var oracle = MariaDbBinlogOracle.Rows(oracleInput);
            var ours = BinlogRenderer.DecodeFile(path);
            var diffs = BinlogRenderer.Diff(oracle, ours);
            var values = oracle.Sum(r => r.Before.Count + r.After.Count);
            output.WriteLine($"{file}: {oracle.Count} rows, {values} values compared in {sw.ElapsedMilliseconds} ms");
            Assert.True(diffs.Count == 0, string.Join("\n", diffs));
            Assert.NotEmpty(oracle);
        }
        finally
        {
            if (temp != null) File.Delete(temp);
        }
    }

    [Fact]
    public void Every_crc_of_the_crc32_fixture_is_verified_and_a_flipped_byte_is_reported()
    {
        var path = RepoPaths.Fixture("mysql-bin.checksum-crc32");
        var bytes = File.ReadAllBytes(path);

        // Every event verifies (the decoder verifies by default) and carries a checksum.
        var events = 0;
        using (var reader = new BinlogFileReader(new MemoryStream(bytes), "crc32"))
        {
            Assert.True(reader.Decoder.VerifyChecksums);
            while (reader.ReadEvent() is not null) events++;
            Assert.Equal(ChecksumAlgorithm.Crc32, reader.Decoder.Checksum);
        }
        Assert.True(events > 100);

        // Flip one byte inside every event in turn (a copy each time): each must fail with a clear CRC error.
        var positions = EventPositions(bytes);
        var rng = new Random(4711);
        var flipped = 0;
        foreach (var (pos, length) in positions)
        {
            var copy = (byte[])bytes.Clone();
            var at = PickCorruptibleByte(bytes, pos, length, rng);
            copy[at] ^= (byte)(1 << rng.Next(8));
            var e = Assert.ThrowsAny<BinlogFormatException>(() =>
            {
                using var reader = new BinlogFileReader(new MemoryStream(copy), "crc32-flipped");
                while (reader.ReadEvent() is not null) { }
            });
            Assert.Contains("CRC32 checksum mismatch", e.Message);
            flipped++;
        }
        output.WriteLine($"{events} events verified; {flipped} single-byte corruptions all reported as CRC32 mismatches");
    }

    /// <summary>
    /// A byte whose corruption only a checksum can catch. Left out: the event type (offset 4) and length (9..12),
    /// which decide how an event is framed and parsed before its checksum can be located; and in the
    /// FORMAT_DESCRIPTION event the server version and checksum-algorithm byte, which decide whether there is a
    /// checksum at all (a corrupt one there is caught by the next event's checksum or by framing instead).
    /// </summary>
    private static int PickCorruptibleByte(byte[] file, int pos, int length, Random rng)
    {
        var isFde = file[pos + 4] == 15;
        while (true)
        {
            var off = rng.Next(length);
            if (off == 4 || off is >= 9 and < 13) continue;
            if (isFde && off >= 19 && off < length - 4) continue;
            return pos + off;
        }
    }

    private static string Show(ColumnValue[]? image) => image == null ? "" : string.Join(", ", image.Select(v => v.ToString()));

    internal static List<(int Pos, int Length)> EventPositions(byte[] file)
    {
        var list = new List<(int, int)>();
        var pos = 4;
        while (pos + 19 <= file.Length)
        {
            var length = BitConverter.ToInt32(file, pos + 9);
            if (length < 19) break; // padding
            list.Add((pos, length));
            pos += length;
        }
        return list;
    }

    internal static (int I, int U, int D) CountRows(string path, out int events, out long materialised)
    {
        int i = 0, u = 0, d = 0;
        events = 0;
        materialised = 0;
        using var reader = BinlogRenderer.OpenReader(path);
        while (reader.ReadEvent() is { } e)
        {
            events++;
            IEnumerable<BinlogEvent> all = e is TransactionPayloadEvent tp ? tp.Events : [e];
            foreach (var x in all)
            {
                if (x is not RowsEvent re) continue;
                foreach (var row in re.Rows)
                {
                    switch (re.Kind)
                    {
                        case RowChangeKind.Insert: i++; break;
                        case RowChangeKind.Update: u++; break;
                        default: d++; break;
                    }
                    foreach (var image in new[] { row.Before, row.After })
                        if (image != null)
                            foreach (var v in image) { _ = v.ToString(); _ = v.ToObject(); materialised++; }
                }
            }
        }
        return (i, u, d);
    }
}
