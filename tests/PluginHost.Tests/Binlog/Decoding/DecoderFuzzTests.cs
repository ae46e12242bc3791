using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using PluginHost.Binlog;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Binlog.Values;
using PluginHost.Tests.Binlog.Json;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>
/// Real events (a MariaDB binlog of every column type, and the MySQL fixtures) mutated thousands of times with a fixed
/// seed — bit flips, truncation, corrupted length fields, random bytes, appended garbage — and decoded with CRC checks
/// off. Every case must either decode, values and all (ToString, ToObject and the event-JSON writer materialise the
/// lazy text/DECIMAL/JSON values), or throw <see cref="BinlogFormatException"/>; never another exception, and never a
/// BinlogFormatException that merely wraps an IndexOutOfRange/ArgumentOutOfRange/NullReference/InvalidCast.
/// </summary>
[Collection(MariaDbCollection.Name)]
[Trait("Category", "Integration")]
public sealed class DecoderFuzzTests(MariaDbServer db, ITestOutputHelper output)
{
    /// <summary>Fixed (override with PLUGINHOST_FUZZ_SEED to explore; the seed is printed either way).</summary>
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("PLUGINHOST_FUZZ_SEED"), out var s) ? s : 1234567;

    private sealed record Source(string Name, List<byte[]> Events, Func<bool, BinlogEventDecoder> NewDecoder);

    private static BinlogEventDecoder Plain(bool verify) => new(verifyChecksums: verify);

    [Fact]
    public async Task Mutated_events_decode_or_throw_BinlogFormatException()
    {
        var sources = LoadSources();
        foreach (var source in sources)
        {
            // Unmutated, every source decodes cleanly, values and all.
            var decoder = source.NewDecoder(true);
            foreach (var e in source.Events) Materialise(decoder.Decode(e));
        }
        var rng = new Random(Seed);
        var failures = new List<string>();
        var outcomes = new Dictionary<string, int>();
        var sw = Stopwatch.StartNew();
        var cases = 0;
        var work = Task.Run(() =>
        {
            foreach (var source in sources)
            {
                var perSource = source.Name.StartsWith("mariadb", StringComparison.Ordinal) ? 12_000
                    : source.Name.StartsWith("hand-built", StringComparison.Ordinal) ? 12_000 : 4_000;
                var candidates = Enumerable.Range(0, source.Events.Count).Where(i => IsInteresting(source.Events[i])).ToList();
                for (var n = 0; n < perSource && failures.Count < 20; n++)
                {
                    var index = candidates[rng.Next(candidates.Count)];
                    var mutated = Mutate(source.Events[index], rng, out var how);
                    var outcome = RunCase(source, index, mutated, out var failure);
                    cases++;
                    outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                    if (failure != null)
                        failures.Add($"{source.Name} event #{index} ({EventType(source.Events[index])}) {how}: {failure}");
                }
            }
        });
        // A hang guard, not a speed limit: a decoder looping on a mutated length never finishes.
        var finished = await Task.WhenAny(work, Task.Delay(TimeSpan.FromMinutes(5))) == work;
        Assert.True(finished, $"fuzzing hung (after {cases} cases)");
        await work;
        output.WriteLine($"seed {Seed}: {cases} cases in {sw.ElapsedMilliseconds} ms; outcomes: " +
                         string.Join(", ", outcomes.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.True(failures.Count == 0, $"seed {Seed}:\n" + string.Join("\n", failures));
        Assert.True(cases >= 20_000, $"only {cases} cases");
    }

    [Fact]
    public void Corrupted_files_read_to_the_end_or_throw_BinlogFormatException()
    {
        var rng = new Random(Seed + 1);
        var failures = new List<string>();
        var files = new[] { "mysql-bin.checksum-crc32", "mysql-bin.checksum-none", "mysql-bin.compressed", "mysql-bin.aurora-padding" }
            .Select(f => (Name: f, Bytes: File.ReadAllBytes(RepoPaths.Fixture(f)))).ToList();
        var cases = 0;
        foreach (var (name, bytes) in files)
        {
            for (var n = 0; n < 300; n++)
            {
                var copy = (byte[])bytes.Clone();
                var flips = rng.Next(1, 6);
                for (var k = 0; k < flips; k++) copy[rng.Next(4, copy.Length)] ^= (byte)(1 << rng.Next(8));
                if (rng.Next(4) == 0) Array.Resize(ref copy, rng.Next(4, copy.Length));
                cases++;
                try
                {
                    using var reader = new BinlogFileReader(new MemoryStream(copy), name, new BinlogEventDecoder(verifyChecksums: false));
                    while (reader.ReadEvent() is { } e) Materialise(e);
                }
                catch (BinlogFormatException e) when (!IsHiddenBug(e)) { }
                catch (Exception e)
                {
                    failures.Add($"{name} case {n}: {Describe(e)}");
                }
            }
        }
        output.WriteLine($"{cases} corrupted files read");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    // ---------- cases ----------

    private static string RunCase(Source source, int index, byte[] mutated, out string? failure)
    {
        failure = null;
        var decoder = source.NewDecoder(false);
        try
        {
            // Context: the format description, then the table maps before the event, unmutated.
            foreach (var ctx in Context(source, index)) decoder.Decode(ctx);
        }
        catch (BinlogFormatException e)
        {
            failure = "context did not decode: " + e.Message;
            return "context";
        }
        try
        {
            var e = decoder.Decode(mutated);
            Materialise(e);
            // A mutated table map or format description also meets the events that follow it.
            if (e is TableMapEvent or FormatDescriptionEvent)
                for (var k = index + 1; k < Math.Min(source.Events.Count, index + 4); k++)
                    Materialise(decoder.Decode(source.Events[k]));
            return "decoded";
        }
        catch (BinlogFormatException e) when (!IsHiddenBug(e))
        {
            return "BinlogFormatException";
        }
        catch (Exception e)
        {
            failure = Describe(e);
            return e.GetType().Name;
        }
    }

    private static IEnumerable<byte[]> Context(Source source, int index)
    {
        var fde = source.Events.FindLastIndex(index, e => EventType(e) == BinlogEventType.FormatDescription);
        if (fde >= 0 && fde != index) yield return source.Events[fde];
        var maps = new List<byte[]>();
        for (var k = index - 1; k > fde && maps.Count < 4; k--)
        {
            var t = EventType(source.Events[k]);
            if (t == BinlogEventType.TableMap) maps.Add(source.Events[k]);
            else if (maps.Count > 0 && !IsRows(t)) break;
        }
        maps.Reverse();
        foreach (var m in maps) yield return m;
    }

    /// <summary>Decodes every value every way a consumer would.</summary>
    private static void Materialise(BinlogEvent e)
    {
        switch (e)
        {
            case TransactionPayloadEvent tp:
                foreach (var inner in tp.Events) Materialise(inner);
                break;
            case RowsEvent rows:
                var buffer = new ArrayBufferWriter<byte>();
                using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
                {
                    foreach (var row in rows.Rows)
                    foreach (var image in new[] { row.Before, row.After })
                    {
                        if (image == null) continue;
                        foreach (var v in image)
                        {
                            _ = v.ToString();
                            _ = v.ToObject();
                            if (!v.IsMissing) ColumnValueJson.Write(w, v);
                        }
                    }
                }
                break;
            case TableMapEvent map:
                foreach (var c in map.Columns) _ = c.ToString();
                break;
        }
    }

    private static bool IsHiddenBug(BinlogFormatException e) =>
        e.InnerException is IndexOutOfRangeException or ArgumentOutOfRangeException or NullReferenceException or InvalidCastException
            or ArgumentException { ParamName: not null };

    private static string Describe(Exception e) =>
        $"{e.GetType().Name}{(e.InnerException != null ? " (inner " + e.InnerException.GetType().Name + ")" : "")}: {e.Message}\n{(e.InnerException ?? e).StackTrace?.Split('\n').Take(6).Aggregate((a, b) => a + "\n" + b)}";

    // ---------- mutations ----------

    private static byte[] Mutate(byte[] original, Random r, out string how)
    {
        var e = (byte[])original.Clone();
        var fixLength = true;
        switch (r.Next(9))
        {
            case 0:
            case 1:
            {
                var n = r.Next(1, 9);
                for (var k = 0; k < n; k++) e[r.Next(19, e.Length)] ^= (byte)(1 << r.Next(8));
                how = $"{n} bit flips";
                break;
            }
            case 2:
            {
                var len = r.Next(19, e.Length);
                Array.Resize(ref e, len);
                how = $"truncated to {len}";
                break;
            }
            case 3:
            {
                // Length-encoded integer prefixes and big counts at a random spot.
                var at = r.Next(19, e.Length);
                var b = new byte[] { 0xFB, 0xFC, 0xFD, 0xFE, 0xFF, 0x00, 0x7F, 0x80 }[r.Next(8)];
                e[at] = b;
                for (var k = 1; k < 4 && at + k < e.Length; k++) if (r.Next(2) == 0) e[at + k] = 0xFF;
                how = $"length-like byte 0x{b:X2} at {at}";
                break;
            }
            case 4:
            {
                var at = r.Next(19, e.Length);
                var n = Math.Min(e.Length - at, r.Next(1, 17));
                r.NextBytes(e.AsSpan(at, n));
                how = $"{n} random bytes at {at}";
                break;
            }
            case 5:
            {
                var extra = new byte[r.Next(1, 64)];
                r.NextBytes(extra);
                e = [.. e, .. extra];
                how = $"{extra.Length} bytes appended";
                break;
            }
            case 6:
            {
                // A 16/24/32-bit little-endian field set to a large value.
                var at = r.Next(19, Math.Max(20, e.Length - 4));
                var v = new uint[] { 0xFFFF, 0xFFFFFF, 0xFFFFFFFF, 0x7FFFFFFF, 65536, 256 }[r.Next(6)];
                for (var k = 0; k < 4 && at + k < e.Length; k++) e[at + k] = (byte)(v >> (8 * k));
                how = $"field at {at} = 0x{v:X}";
                break;
            }
            case 7:
            {
                // Header corruption: type, length (left inconsistent) or flags.
                var at = new[] { 4, 9, 10, 17 }[r.Next(4)];
                e[at] = (byte)r.Next(256);
                fixLength = at != 9 && at != 10;
                how = $"header byte {at} = 0x{e[at]:X2}";
                break;
            }
            default:
            {
                // Swap two chunks of the event body.
                var a = r.Next(19, e.Length);
                var b = r.Next(19, e.Length);
                var n = Math.Min(r.Next(1, 9), Math.Min(e.Length - a, e.Length - b));
                var tmp = e.AsSpan(a, n).ToArray();
                e.AsSpan(b, n).CopyTo(e.AsSpan(a, n));
                tmp.CopyTo(e.AsSpan(b, n));
                how = $"swapped {n} bytes {a}<->{b}";
                break;
            }
        }
        if (fixLength) BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(9), (uint)e.Length);
        return e;
    }

    // ---------- sources ----------

    private List<Source> LoadSources()
    {
        var sources = new List<Source>();
        var run = OracleRun.Shared(db);
        // The hires table's rows need the schema's precision: those files get the schema-aware decoder.
        BinlogEventDecoder SchemaAware(bool verify) => run.NewSchemaAwareDecoder(new ReplayStats(), verify);
        foreach (var f in run.SegmentA.Concat(run.SegmentB).Concat(run.SegmentC))
            sources.Add(new Source("mariadb " + Path.GetFileName(f), ReadRaw(f, 6000), SchemaAware));
        foreach (var f in new[] { "mysql-bin.checksum-crc32", "mysql-bin.checksum-none", "mysql-bin.compressed", "mysql-bin.sakila.gz" })
            sources.Add(new Source(f, ReadRaw(RepoPaths.Fixture(f), 3000), Plain));
        sources.Add(new Source("hand-built mysql8 (JSON, TIME2, DECIMAL, ENUM/SET metadata)", HandBuiltMySql8(), Plain));
        foreach (var s in sources) output.WriteLine($"{s.Name}: {s.Events.Count} events");
        return sources;
    }

    /// <summary>MySQL 8 events no server here writes: binary JSON, TIME2/DATETIME2/TIMESTAMP2, full optional metadata.</summary>
    private static List<byte[]> HandBuiltMySql8()
    {
        BinlogEventBuilder.Col[] columns =
        [
            new(ColumnType.Long, []), new(ColumnType.Json, [4]), new(ColumnType.NewDecimal, [20, 6]), new(ColumnType.Time2, [6]),
            new(ColumnType.DateTime2, [3]), new(ColumnType.Timestamp2, [2]), new(ColumnType.String, [(byte)ColumnType.Enum, 1]),
            new(ColumnType.String, [(byte)ColumnType.Set, 2]), new(ColumnType.VarChar, BinlogEventBuilder.LE16(400)),
            new(ColumnType.Blob, [2]), new(ColumnType.Bit, [3, 1]), new(ColumnType.Year, []),
        ];
        (byte, byte[])[] metadata =
        [
            (1, [0b0100_0000]),
            (2, [.. BinlogEventBuilder.LenEnc(255), .. BinlogEventBuilder.LenEnc(1), .. BinlogEventBuilder.LenEnc(63)]),
            (4, columns.Select((_, i) => BinlogEventBuilder.LenEncString("c" + i)).SelectMany(b => b).ToArray()),
            (5, [.. BinlogEventBuilder.LenEnc(10), .. Enumerable.Range(0, 10).SelectMany(i => BinlogEventBuilder.LenEncString("s" + i))]),
            (6, [.. BinlogEventBuilder.LenEnc(3), .. new[] { "a", "é", "中" }.SelectMany(l => BinlogEventBuilder.LenEncString(l))]),
            (8, [.. BinlogEventBuilder.LenEnc(0)]),
            (10, [.. BinlogEventBuilder.LenEnc(255)]),
        ];
        string[] docs =
        [
            "{\"a\":[1,2.5,\"é\",null,true,false],\"bb\":{\"c\":-7,\"d\":18446744073709551615}}",
            "[[[[[]]]],{},\"x\",-1e300,123456789012]",
            "\"plain string\"",
            "{\"k\":" + string.Join("", Enumerable.Repeat("[", 20)) + "1" + string.Join("", Enumerable.Repeat("]", 20)) + "}",
        ];
        var events = new List<byte[]> { BinlogEventBuilder.FormatDescription("8.0.36") };
        for (var n = 0; n < 6; n++)
        {
            events.Add(BinlogEventBuilder.TableMap(42, "db", "t", columns, metadata));
            var images = new List<byte[]>();
            for (var r = 0; r < 3; r++)
            {
                var json = MySqlJsonTestEncoder.Encode(docs[(n + r) % docs.Length]);
                images.Add(BinlogEventBuilder.Image(
                    BitConverter.GetBytes(n * 10 + r), [.. BitConverter.GetBytes(json.Length), .. json],
                    [0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0xE2, 0x40], [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xF6],
                    [0x99, 0xB0, 0x5E, 0xD0, 0x00, 0x04, 0xD2], [0x65, 0x53, 0xF1, 0x00, 0x32], [(byte)(r + 1)], [0x05, 0x02],
                    [.. BinlogEventBuilder.LE16(6), .. "中文"u8], [4, 0, 1, 2, 3, 4], [0x05, 0x55], [(byte)(r * 50)]));
            }
            var type = new[] { BinlogEventType.WriteRowsV2, BinlogEventType.UpdateRowsV2, BinlogEventType.DeleteRowsV2 }[n % 3];
            if (type == BinlogEventType.UpdateRowsV2) images = images.SelectMany(i => new[] { i, i }).ToList();
            events.Add(BinlogEventBuilder.Rows(type, 42, columns.Length, images));
        }
        return events;
    }

    private static List<byte[]> ReadRaw(string path, int max)
    {
        var list = new List<byte[]>();
        using var reader = BinlogRenderer.OpenReader(path);
        while (list.Count < max)
        {
            var raw = reader.NextRaw();
            if (raw.IsEmpty) break;
            if (raw.Length <= 1 << 16) list.Add(raw.ToArray());
        }
        return list;
    }

    private static BinlogEventType EventType(byte[] e) => (BinlogEventType)e[4];

    private static bool IsRows(BinlogEventType t) => t is >= BinlogEventType.WriteRowsV1 and <= BinlogEventType.DeleteRowsV1
        or >= BinlogEventType.WriteRowsV2 and <= BinlogEventType.DeleteRowsV2 or BinlogEventType.PartialUpdateRows;

    private static bool IsInteresting(byte[] e) => e.Length > 20 && EventType(e) != BinlogEventType.Stop;
}
