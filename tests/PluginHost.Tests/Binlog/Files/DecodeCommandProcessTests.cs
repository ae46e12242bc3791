using System.IO.Compression;
using System.Text.Json;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Binlog.Files;

/// <summary><c>pluginhost decode FILE...</c> run as a real process on real MySQL binlog files (counts from the fixtures' README).</summary>
[Trait("Category", "Integration")]
public sealed class DecodeCommandProcessTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(3);

    private static List<JsonElement> Lines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    private static Dictionary<string, int> CountOps(IEnumerable<JsonElement> lines) =>
        lines.GroupBy(l => l.GetProperty("op").GetString()!).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public async Task Two_files_in_one_call_print_every_row_of_both_in_order()
    {
        var crc = RepoPaths.Fixture("mysql-bin.checksum-crc32");
        var none = RepoPaths.Fixture("mysql-bin.checksum-none");

        var result = await HostCommand.RunAsync(HangGuard, "decode", crc, none);

        Assert.True(result.ExitCode == 0, $"exit code {result.ExitCode}: {result.StandardError}");
        Assert.Equal("", result.StandardError);
        var lines = Lines(result.StandardOutput);
        Assert.Equal(63 + 36, lines.Count);
        Assert.Equal(new Dictionary<string, int> { ["insert"] = 34, ["update"] = 23, ["delete"] = 6 }, CountOps(lines.Take(63)));
        Assert.Equal(new Dictionary<string, int> { ["insert"] = 34, ["update"] = 2 }, CountOps(lines.Skip(63)));
        Assert.All(lines.Take(63), l => Assert.StartsWith("mysql-bin.", l.GetProperty("file").GetString()));
        Assert.Equal("mysql-bin.checksum-none", lines[63].GetProperty("file").GetString());
        // Positions grow within each file and start again with the second one.
        Assert.True(lines[63].GetProperty("pos").GetInt64() < lines[62].GetProperty("pos").GetInt64());
    }

    [Fact]
    public async Task A_gzip_file_decodes_like_the_plain_file_under_its_name_without_gz()
    {
        var plain = RepoPaths.Fixture("mysql-bin.checksum-none");
        var dir = TestTemp.CreateSubdirectory("decode-gz");
        var gz = Path.Combine(dir.FullName, "mysql-bin.checksum-none.gz");
        await using (var input = File.OpenRead(plain))
        await using (var output = new GZipStream(File.Create(gz), CompressionLevel.Optimal))
            await input.CopyToAsync(output);

        var fromPlain = await HostCommand.RunAsync(HangGuard, "decode", plain);
        var fromGz = await HostCommand.RunAsync(HangGuard, "decode", gz);

        Assert.True(fromGz.ExitCode == 0, $"exit code {fromGz.ExitCode}: {fromGz.StandardError}");
        Assert.Equal(36, Lines(fromGz.StandardOutput).Count);
        Assert.Equal(fromPlain.StandardOutput, fromGz.StandardOutput);
    }

    [Fact]
    public async Task Corrupt_and_missing_files_fail_with_their_names_and_the_good_file_is_still_printed()
    {
        var good = RepoPaths.Fixture("mysql-bin.checksum-none");
        var dir = TestTemp.CreateSubdirectory("decode-bad");
        var notBinlog = Path.Combine(dir.FullName, "notes.txt");
        await File.WriteAllTextAsync(notBinlog, "this is not a binlog");
        var missing = Path.Combine(dir.FullName, "mysql-bin.000404");

        // A copy of the CRC32 fixture with one byte of its first rows event's body flipped.
        var bytes = await File.ReadAllBytesAsync(RepoPaths.Fixture("mysql-bin.checksum-crc32"));
        long rowsAt;
        using (var reader = new BinlogFileReader(new MemoryStream(bytes), "x"))
            rowsAt = reader.ReadAll().OfType<RowsEvent>().First().Header.Position;
        bytes[rowsAt + 19 + 8] ^= 0x5A;
        var damaged = Path.Combine(dir.FullName, "mysql-bin.damaged");
        await File.WriteAllBytesAsync(damaged, bytes);

        var result = await HostCommand.RunAsync(HangGuard, "decode", notBinlog, good, damaged, missing);

        Assert.NotEqual(0, result.ExitCode);
        var errors = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, errors.Length);
        Assert.Contains(notBinlog, errors[0]);
        Assert.Contains("not a binlog file", errors[0]);
        Assert.Contains(damaged, errors[1]);
        Assert.Contains("CRC32 checksum mismatch", errors[1]);
        Assert.Contains($"position {rowsAt}", errors[1]);
        Assert.Contains(missing, errors[2]);
        Assert.Contains("Could not find file", errors[2]);
        // The good file between the bad ones is decoded completely; the damaged one fails at its first row.
        Assert.Equal(36, Lines(result.StandardOutput).Count);
    }

    [Fact]
    public async Task A_file_damaged_after_its_first_rows_prints_every_row_of_the_events_before_the_damage()
    {
        // A copy of the CRC32 fixture with one byte of its last rows event's body flipped.
        var bytes = await File.ReadAllBytesAsync(RepoPaths.Fixture("mysql-bin.checksum-crc32"));
        List<RowsEvent> rowsEvents;
        using (var reader = new BinlogFileReader(new MemoryStream(bytes), "x"))
            rowsEvents = reader.ReadAll().OfType<RowsEvent>().ToList();
        var last = rowsEvents[^1];
        bytes[last.Header.Position + 19 + 8] ^= 0x5A;
        var damaged = Path.Combine(TestTemp.CreateSubdirectory("decode-late-damage").FullName, "mysql-bin.late-damage");
        await File.WriteAllBytesAsync(damaged, bytes);

        var result = await HostCommand.RunAsync(HangGuard, "decode", damaged);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"position {last.Header.Position}", result.StandardError);
        var expected = rowsEvents.SkipLast(1).Sum(e => e.Rows.Count);
        Assert.True(expected > 50, $"only {expected} rows before the damage");
        var lines = Lines(result.StandardOutput);
        Assert.Equal(expected, lines.Count);
        Assert.True(lines[^1].GetProperty("pos").GetInt64() < last.Header.Position);
    }

    [Fact]
    public async Task Stats_go_to_standard_error_and_leave_the_rows_alone()
    {
        var file = RepoPaths.Fixture("mysql-bin.checksum-crc32");

        var plain = await HostCommand.RunAsync(HangGuard, "decode", file);
        var withStats = await HostCommand.RunAsync(HangGuard, "decode", "--stats", file);

        Assert.Equal(0, withStats.ExitCode);
        Assert.Equal(plain.StandardOutput, withStats.StandardOutput);
        Assert.Equal("", plain.StandardError);
        Assert.Matches(@"^pluginhost decode: 63 rows in \d+\.\d{3} s since the process started .*JIT \d+ ms.*methods; GCs \d+/\d+/\d+", withStats.StandardError);
    }

    [Fact]
    public async Task No_file_prints_the_usage_and_fails()
    {
        var result = await HostCommand.RunAsync(HangGuard, "decode");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("usage: pluginhost decode FILE...", result.StandardError);
        Assert.Equal("", result.StandardOutput);
    }
}
