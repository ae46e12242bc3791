using System.Globalization;
using System.Text;
using PluginHost.Binlog.Values;
using PluginHost.Tests.Support;

namespace PluginHost.Tests.Binlog.CharacterSets;

/// <summary>
/// Every byte of every single-byte character set, and every one-, two- and (EUC-JP) three-byte sequence of every
/// multi-byte one, decodes as the live MariaDB decodes it (<c>CONVERT(... USING utf8mb4)</c>).
/// </summary>
[Trait("Category", "Integration")]
[Collection(SecondMariaDbCollection.Name)]
public sealed class CharacterSetByteTests(MariaDbServer db)
{
    [Fact]
    public void Every_byte_sequence_of_every_character_set_decodes_as_the_server_decodes_it()
    {
        var sets = db.Sql("SELECT CHARACTER_SET_NAME, DEFAULT_COLLATE_NAME, MAXLEN FROM information_schema.CHARACTER_SETS;")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t'))
            .Where(f => f[0] is not ("binary" or "utf8mb3" or "utf8mb4" or "ucs2" or "utf16" or "utf16le" or "utf32")).ToList();
        var mismatches = new List<string>();
        var compared = 0;
        foreach (var set in sets)
        {
            var cs = set[0];
            var id = int.Parse(db.Sql($"SELECT ID FROM information_schema.COLLATIONS WHERE COLLATION_NAME = '{set[1]}';").Trim(), CultureInfo.InvariantCulture);
            var encoding = Charsets.GetEncoding(id);
            Assert.Equal(cs, Charsets.GetCharsetName(id));
            var sql = $"SELECT seq, HEX(CONVERT(CONVERT(UNHEX(LPAD(HEX(seq), 2, '0')) USING {cs}) USING utf8mb4)) FROM seq_0_to_255";
            if (set[2] != "1")
                sql += $" UNION ALL SELECT seq, HEX(CONVERT(CONVERT(UNHEX(HEX(seq)) USING {cs}) USING utf8mb4)) FROM seq_32768_to_65535";
            if (cs is "ujis" or "eucjpms")
                sql += $" UNION ALL SELECT seq + 0x8F0000, HEX(CONVERT(CONVERT(UNHEX(CONCAT('8F', HEX(seq))) USING {cs}) USING utf8mb4)) FROM seq_41377_to_65278";
            var read = 0;
            foreach (var line in db.Sql(sql + ";", "mysql").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var f = line.Split('\t');
                var code = int.Parse(f[0], CultureInfo.InvariantCulture);
                var server = Encoding.UTF8.GetString(Convert.FromHexString(f[1]));
                var bytes = code > 0xFFFF ? new[] { (byte)(code >> 16), (byte)(code >> 8), (byte)code }
                    : code > 0xFF ? new[] { (byte)(code >> 8), (byte)code } : new[] { (byte)code };
                var decoded = encoding.GetString(bytes);
                // A sequence the server cannot read comes back as '?' (or one '?' per byte): ours must then not be a character
                // of the set either (U+FFFD), for single bytes; multi-byte garbage is only checked where the server reads it.
                if (server.Length != 1 || (server == "?" && code != '?'))
                {
                    if (set[2] == "1" && decoded != "\uFFFD") mismatches.Add($"{cs} {code:X2}: server has no character, decoded '{decoded}'");
                    continue;
                }
                compared++;
                read++;
                if (decoded != server) mismatches.Add($"{cs} {code:X}: server U+{(int)server[0]:X4}, decoded {string.Join(' ', decoded.Select(c => $"U+{(int)c:X4}"))}");
            }
            Assert.True(read > (set[2] == "1" ? 100 : 5000), $"{cs}: the server read only {read} sequences");
        }
        Assert.True(compared > 100_000, $"only {compared} sequences compared");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {compared} sequences differ:\n{string.Join('\n', mismatches.Take(100))}");
    }
}
