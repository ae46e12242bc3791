using System.Text;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Replication;
using PluginHost.Binlog.Values;
using PluginHost.Tests.Binlog.Replication;
using PluginHost.Tests.Support;
using Xunit.Abstractions;

namespace PluginHost.Tests.Binlog.CharacterSets;

/// <summary>
/// Text in every character set and collation the live MariaDB has reaches the events as <c>SELECT</c> reads it
/// (utf8mb4 client), through the binlog file and the replication stream.
/// </summary>
[Trait("Category", "Integration")]
[Collection(SecondMariaDbCollection.Name)]
public sealed class CharacterSetTests(MariaDbServer db, ITestOutputHelper output)
{
    /// <summary>Characters a sample may take, each kept for a set only when the server round-trips it through that set.</summary>
    private const string Candidates =
        "éüßçñøåÆœ€Šž¥£©°±µÿĀąčęėğışőřůЖПриветїєґΩαβλשלוםسلامกขคԲարեგამ日本語中文漢字ｶﾀﾅ한국어あアㄅ∑≤☃😀";

    [Fact]
    public void Every_collation_of_every_character_set_decodes_as_select_reads_it()
    {
        const string database = "cs_all";
        db.Sql($"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database};");
        var charsets = db.Sql("SHOW CHARACTER SET;").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')[0]).ToList();
        var collations = db.Sql("SELECT CHARACTER_SET_NAME, FULL_COLLATION_NAME, ID FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY ORDER BY ID;")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToLookup(f => f[0], f => (Name: f[1], Id: f[2]));
        var samples = Samples(charsets);
        var weak = charsets.Where(c => c is not ("ascii" or "binary") && samples[c].All(char.IsAscii)).ToList();
        Assert.True(weak.Count == 0, $"no non-ASCII sample for {string.Join(", ", weak)}");

        var sql = new StringBuilder($"USE {database};\n");
        foreach (var cs in charsets)
        {
            var columns = collations[cs].Select((c, i) => cs == "binary" ? $"c{i} VARBINARY(24)" : $"c{i} VARCHAR(24) CHARACTER SET {cs} COLLATE {c.Name}").ToList();
            if (cs != "binary") columns.Add($"e ENUM('x', '{samples[cs]}') CHARACTER SET {cs}, s SET('{samples[cs]}', 'x') CHARACTER SET {cs}");
            // MyISAM: several hundred VARCHARs are over InnoDB's row size limit; the row events are the same.
            sql.Append($"CREATE TABLE t_{cs} ({string.Join(", ", columns)}) ENGINE=MyISAM;\n");
        }
        var (file, position) = Repl.MasterStatus(db);
        foreach (var cs in charsets)
        {
            var values = Enumerable.Repeat($"'{samples[cs]}'", collations[cs].Count() + (cs == "binary" ? 0 : 2));
            sql.Append($"INSERT INTO t_{cs} VALUES ({string.Join(", ", values)});\n");
        }
        db.Sql(sql.ToString());

        var rows = Repl.DecodeFiles(db, file, position).OfType<RowsEvent>().Where(e => e.Table.Database == database)
            .ToDictionary(e => e.Table.Table, e => e.Rows.Single().After!);
        var mismatches = new List<string>();
        var compared = 0;
        foreach (var cs in charsets)
        {
            var expected = db.Sql($"SELECT * FROM {database}.t_{cs};").TrimEnd('\n').Split('\t');
            var names = collations[cs].Select(c => $"{c.Name} (id {c.Id})").ToList();
            if (cs != "binary") names.AddRange([$"ENUM in {cs}", $"SET in {cs}"]);
            var actual = rows[$"t_{cs}"];
            Assert.Equal(names.Count, expected.Length);
            for (var i = 0; i < names.Count; i++)
            {
                var text = actual[i].Kind == ValueKind.Bytes ? Encoding.ASCII.GetString(actual[i].AsBytes()) : actual[i].ToString();
                compared++;
                if (text != expected[i]) mismatches.Add($"{names[i]}: SELECT '{expected[i]}', decoded '{text}'");
            }
        }
        output.WriteLine($"{compared} columns in {charsets.Count} character sets compared");
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} of {compared} columns differ:\n{string.Join('\n', mismatches)}");
    }

    [Fact]
    public async Task The_issue_reproduction_decodes_sjis_koi8r_latin1_nopad_and_utf16_nopad()
    {
        const string database = "cs_issue";
        db.Sql($"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database};");
        var (file, position) = Repl.MasterStatus(db);
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, position), output)));
        await reader.ConnectedAsync();
        db.Sql($"""
            USE {database};
            CREATE TABLE t (c0 VARCHAR(20) CHARACTER SET sjis, c1 VARCHAR(20) CHARACTER SET koi8r,
              c2 VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_nopad_bin, c3 VARCHAR(20) CHARACTER SET utf16 COLLATE utf16_nopad_bin);
            INSERT INTO t VALUES ('ｶﾀｶﾅ日本','Привет','café','h😀');
            """);
        string[] expected = ["ｶﾀｶﾅ日本", "Привет", "café", "h😀"];
        Assert.Equal(string.Join('\t', expected), db.Sql($"SELECT * FROM {database}.t;").TrimEnd('\n'));

        var streamed = (RowsEvent)(await reader.UntilAsync(e => e is RowsEvent r && r.Table.Database == database))[^1];
        Assert.Equal(expected, streamed.Rows.Single().After!.Select(v => v.ToString()));
        var fromFile = Repl.DecodeFiles(db, file, position).OfType<RowsEvent>().Single(e => e.Table.Database == database);
        Assert.Equal(expected, fromFile.Rows.Single().After!.Select(v => v.ToString()));
    }

    [Fact]
    public async Task Without_charsets_in_the_table_map_the_live_client_takes_them_from_information_schema_uca1400_included()
    {
        const string database = "cs_no_log";
        db.Sql($"DROP DATABASE IF EXISTS {database}; CREATE DATABASE {database};");
        var (file, position) = Repl.MasterStatus(db);
        await using var reader = new Reader(new BinlogClient(Repl.Options(db, BinlogStart.At(file, position), output)));
        await reader.ConnectedAsync();
        try
        {
            // NO_LOG: the table map carries no charsets; MariaDB lists uca1400 collations in COLLATIONS without an id.
            db.Sql($"""
                SET GLOBAL binlog_row_metadata = 'NO_LOG';
                USE {database};
                CREATE TABLE t (a VARCHAR(20) CHARACTER SET ucs2 COLLATE ucs2_uca1400_ai_ci,
                  b VARCHAR(20) CHARACTER SET utf32 COLLATE utf32_uca1400_swedish_nopad_as_cs,
                  c VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_uca1400_ai_ci, d VARCHAR(20) CHARACTER SET koi8r,
                  e ENUM('x', 'Привет') CHARACTER SET cp1251, f VARCHAR(20) CHARACTER SET sjis);
                INSERT INTO t VALUES ('Zoë Ωμέγα', 'h😀 Åäö', 'Zoë 😀', 'Привет', 'Привет', 'ｶﾀｶﾅ日本');
                """);
        }
        finally
        {
            db.Sql("SET GLOBAL binlog_row_metadata = 'FULL';");
        }
        var expected = db.Sql($"SELECT * FROM {database}.t;").TrimEnd('\n').Split('\t');
        var streamed = (RowsEvent)(await reader.UntilAsync(e => e is RowsEvent r && r.Table.Database == database))[^1];
        Assert.Equal(expected, streamed.Rows.Single().After!.Select(v => v.ToString()));
    }

    /// <summary>Per character set: "Ab1-" and every candidate the server round-trips through it.</summary>
    private Dictionary<string, string> Samples(IReadOnlyList<string> charsets)
    {
        var candidates = Candidates.EnumerateRunes().Select(r => r.ToString()).ToList();
        var query = string.Join("\nUNION ALL ", charsets.Select(cs => $"SELECT '{cs}', CONCAT(" +
            string.Join(", ", candidates.Select(c =>
                $"IF(HEX(CONVERT(CONVERT(_utf8mb4'{c}' USING {cs}) USING utf8mb4)) = HEX(_utf8mb4'{c}'), '1', '0')")) + ")"));
        var samples = new Dictionary<string, string>();
        foreach (var line in db.Sql(query + ";").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t');
            // binary round-trips every byte: its sample stays ASCII.
            List<string> kept = f[0] == "binary" ? [] : candidates.Where((_, i) => f[1][i] == '1').ToList();
            // At most 16, spread over the list from its first to its last (its scripts are grouped: Latin, ..., CJK, emoji).
            var n = Math.Min(16, kept.Count);
            samples[f[0]] = "Ab1-" + string.Concat(Enumerable.Range(0, n).Select(i => kept[n == 1 ? 0 : i * (kept.Count - 1) / (n - 1)]));
        }
        foreach (var (cs, s) in samples) output.WriteLine($"{cs}: {s}");
        return samples;
    }
}
