using System.Globalization;
using System.Text;

namespace PluginHost.Tests.Support;

/// <summary>
/// Random tables covering every MariaDB column type, and random SQL (multi-row INSERT, UPDATE incl. key changes,
/// DELETE, multi-statement transactions, rollbacks) against them. Deterministic for a seed.
/// </summary>
public sealed class OracleWorkload
{
    private readonly Random _r;
    private readonly Dictionary<string, SortedSet<int>> _ids = new();
    private readonly Dictionary<string, int> _nextId = new();

    public OracleWorkload(int seed)
    {
        _r = new Random(seed);
        Tables = BuildTables();
        foreach (var t in AllTables)
        {
            _ids[t.Name] = [];
            _nextId[t.Name] = 1;
        }
    }

    public IReadOnlyList<OracleTable> Tables { get; }

    /// <summary>Created with mysql56_temporal_format=OFF: only fsp 0, i.e. the pre-5.6 TIME/DATETIME/TIMESTAMP formats mariadb-binlog prints.</summary>
    public OracleTable OldTemporalTable { get; } = new("t_old_temporal",
    [
        new("t", "TIME", r => Lit(TimeText(r, 0)), CheckKind.Temporal),
        new("dt", "DATETIME", r => Lit(DateTimeText(r, 0)), CheckKind.Temporal),
        new("ts", "TIMESTAMP NULL DEFAULT NULL", r => Lit(TimestampText(r, 0)), CheckKind.Timestamp),
        new("n", "INT", r => IntLit(r, int.MinValue, int.MaxValue), CheckKind.Number),
    ]);

    /// <summary>Created with mysql56_temporal_format=OFF and fsp &gt; 0: MariaDB's "hires" formats (no fsp in the table map).</summary>
    public OracleTable HiresTable { get; } = new("t_hires",
    [
        new("t1", "TIME(1)", r => Lit(TimeText(r, 1)), CheckKind.Temporal),
        new("t3", "TIME(3)", r => Lit(TimeText(r, 3)), CheckKind.Temporal),
        new("t6", "TIME(6)", r => Lit(TimeText(r, 6)), CheckKind.Temporal),
        new("t0", "TIME", r => Lit(TimeText(r, 0)), CheckKind.Temporal),
        new("dt2", "DATETIME(2)", r => Lit(DateTimeText(r, 2)), CheckKind.Temporal),
        new("dt4", "DATETIME(4)", r => Lit(DateTimeText(r, 4)), CheckKind.Temporal),
        new("dt6", "DATETIME(6)", r => Lit(DateTimeText(r, 6)), CheckKind.Temporal),
        new("ts2", "TIMESTAMP(2) NULL DEFAULT NULL", r => Lit(TimestampText(r, 2)), CheckKind.Timestamp),
        new("ts3", "TIMESTAMP(3) NULL DEFAULT NULL", r => Lit(TimestampText(r, 3)), CheckKind.Timestamp),
        new("ts6", "TIMESTAMP(6) NULL DEFAULT NULL", r => Lit(TimestampText(r, 6)), CheckKind.Timestamp),
        new("n", "BIGINT UNSIGNED", r => UIntLit(r, ulong.MaxValue), CheckKind.Number),
    ]);

    public IEnumerable<OracleTable> AllTables => Tables.Concat([OldTemporalTable, HiresTable]);

    public static string SessionPrelude(string image) =>
        $"SET SESSION sql_mode=''; SET SESSION time_zone='+00:00'; SET SESSION binlog_row_image={image};\n";

    private IReadOnlyList<OracleTable> BuildTables()
    {
        var num = new List<OracleColumn>
        {
            // YEAR first: MariaDB counts it in the SIGNEDNESS bitmap, MySQL does not.
            new("y", "YEAR", r => r.Next(5) == 0 ? "0" : r.Next(1901, 2156).ToString(), CheckKind.BitOrYear),
            new("ti", "TINYINT", r => IntLit(r, sbyte.MinValue, sbyte.MaxValue), CheckKind.Number),
            new("tiu", "TINYINT UNSIGNED", r => UIntLit(r, byte.MaxValue), CheckKind.Number),
            new("si", "SMALLINT", r => IntLit(r, short.MinValue, short.MaxValue), CheckKind.Number),
            new("siu", "SMALLINT UNSIGNED", r => UIntLit(r, ushort.MaxValue), CheckKind.Number),
            new("mi", "MEDIUMINT", r => IntLit(r, -8388608, 8388607), CheckKind.Number),
            new("miu", "MEDIUMINT UNSIGNED", r => UIntLit(r, 16777215), CheckKind.Number),
            new("i", "INT", r => IntLit(r, int.MinValue, int.MaxValue), CheckKind.Number),
            new("iu", "INT UNSIGNED", r => UIntLit(r, uint.MaxValue), CheckKind.Number),
            new("bi", "BIGINT", r => IntLit(r, long.MinValue, long.MaxValue), CheckKind.Number),
            new("biu", "BIGINT UNSIGNED", r => UIntLit(r, ulong.MaxValue), CheckKind.Number),
            new("f", "FLOAT", FloatLit, CheckKind.Float),
            new("fu", "FLOAT UNSIGNED", FloatLit, CheckKind.Float),
            new("d", "DOUBLE", DoubleLit, CheckKind.Double),
            new("b1", "BIT(1)", r => BitLit(r, 1), CheckKind.BitOrYear),
            new("b7", "BIT(7)", r => BitLit(r, 7), CheckKind.BitOrYear),
            new("b8", "BIT(8)", r => BitLit(r, 8), CheckKind.BitOrYear),
            new("b9", "BIT(9)", r => BitLit(r, 9), CheckKind.BitOrYear),
            new("b33", "BIT(33)", r => BitLit(r, 33), CheckKind.BitOrYear),
            new("b64", "BIT(64)", r => BitLit(r, 64), CheckKind.BitOrYear),
        };
        foreach (var (p, s, u) in new[] { (65, 30, false), (10, 0, false), (5, 5, false), (18, 9, false), (9, 4, false), (38, 10, false),
                     (1, 0, false), (65, 0, false), (20, 2, true), (30, 25, false), (19, 1, false), (27, 9, true) })
            num.Add(new($"dec{p}_{s}{(u ? "u" : "")}", $"DECIMAL({p},{s}){(u ? " UNSIGNED" : "")}", r => DecimalLit(r, p, s, u), CheckKind.Decimal));

        var time = new List<OracleColumn> { new("dt", "DATE", r => Lit(DateText(r)), CheckKind.Temporal) };
        for (var fsp = 0; fsp <= 6; fsp++)
        {
            var f = fsp;
            time.Add(new($"t{f}", $"TIME({f})", r => Lit(TimeText(r, f)), CheckKind.Temporal));
            time.Add(new($"dt{f}", $"DATETIME({f})", r => Lit(DateTimeText(r, f)), CheckKind.Temporal));
            time.Add(new($"ts{f}", $"TIMESTAMP({f}) NULL DEFAULT NULL", r => Lit(TimestampText(r, f)), CheckKind.Timestamp));
        }

        var str = new List<OracleColumn>
        {
            // GEOMETRY first: MariaDB counts geometry columns in the character-set list, MySQL does not.
            new("g", "GEOMETRY", GeometryLit, CheckKind.Binary),
            new("c10", "CHAR(10)", r => Utf8Lit(r, 10, int.MaxValue), CheckKind.Text),
            new("c255", "CHAR(255)", r => Utf8Lit(r, 255, int.MaxValue), CheckKind.Text),
            new("vc100", "VARCHAR(100)", r => Utf8Lit(r, 100, int.MaxValue), CheckKind.Text),
            new("vc300", "VARCHAR(300)", r => Utf8Lit(r, 300, int.MaxValue), CheckKind.Text),
            new("ttx", "TINYTEXT", r => Utf8Lit(r, 255, 255), CheckKind.Text, IsBlob: true),
            new("tx", "TEXT", r => Utf8Lit(r, r.Next(20) == 0 ? 16000 : 300, 65535), CheckKind.Text, IsBlob: true),
            new("mtx", "MEDIUMTEXT", r => Utf8Lit(r, r.Next(40) == 0 ? 40000 : 200, 1 << 24), CheckKind.Text, IsBlob: true),
            new("ltx", "LONGTEXT", r => Utf8Lit(r, r.Next(40) == 0 ? 40000 : 200, int.MaxValue), CheckKind.Text, IsBlob: true),
            new("pt", "POINT", r => $"POINT({DoubleText(r)}, {DoubleText(r)})", CheckKind.Binary),
            new("l_c20", "CHAR(20) CHARACTER SET latin1", r => Latin1Lit(r, 20), CheckKind.Text),
            new("l_c255", "CHAR(255) CHARACTER SET latin1", r => Latin1Lit(r, 255), CheckKind.Text),
            new("l_vc300", "VARCHAR(300) CHARACTER SET latin1", r => Latin1Lit(r, 300), CheckKind.Text),
            new("l_tx", "TEXT CHARACTER SET latin1", r => Latin1Lit(r, 500), CheckKind.Text, IsBlob: true),
            new("u3", "VARCHAR(40) CHARACTER SET utf8mb3", r => TextLit(r, 40, Bmp), CheckKind.Text),
            new("ubin", "VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin", r => TextLit(r, 40, Any), CheckKind.Text),
            new("u16", "VARCHAR(40) CHARACTER SET utf16", r => TextLit(r, 40, Any), CheckKind.Text),
            new("ucs2", "VARCHAR(40) CHARACTER SET ucs2", r => TextLit(r, 40, Bmp), CheckKind.Text),
            new("cp1251", "VARCHAR(40) CHARACTER SET cp1251", r => TextLit(r, 40, Cyrillic), CheckKind.Text),
            new("bc10", "CHAR(10) CHARACTER SET binary", r => BinLit(r, 10), CheckKind.Binary),
            new("bin16", "BINARY(16)", r => BinLit(r, 16), CheckKind.Binary),
            new("vb300", "VARBINARY(300)", r => BinLit(r, 300), CheckKind.Binary),
            new("tb", "TINYBLOB", r => BinLit(r, 255), CheckKind.Binary, IsBlob: true),
            new("bl", "BLOB", r => BinLit(r, r.Next(20) == 0 ? 65535 : 300), CheckKind.Binary, IsBlob: true),
            new("mb", "MEDIUMBLOB", r => BinLit(r, r.Next(40) == 0 ? 100_000 : 300), CheckKind.Binary, IsBlob: true),
            new("lb", "LONGBLOB", r => BinLit(r, r.Next(40) == 0 ? 100_000 : 300), CheckKind.Binary, IsBlob: true),
            // Text: files decoded offline carry no schema, so MariaDB JSON stays a string (live it is embedded JSON).
            new("j", "JSON", JsonLit, CheckKind.Text, IsBlob: true),
        };

        // No label outside the BMP: MariaDB writes those as '?' into the table map's ENUM/SET metadata (a server
        // limitation, checked separately), so only information_schema would have them right.
        string[] small = ["a", "b", "é", "Ω", "中文", "x y"];
        var e300 = Enumerable.Range(1, 300).Select(i => $"v{i}").ToArray();
        var s64 = Enumerable.Range(1, 64).Select(i => $"m{i}").ToArray();
        var s9 = Enumerable.Range(1, 9).Select(i => $"n{i}").ToArray();
        var s17 = Enumerable.Range(1, 17).Select(i => $"q{i}").ToArray();
        var s33 = Enumerable.Range(1, 33).Select(i => $"r{i}").ToArray();
        string[] latin = ["x", "é", "ÿ", "Ä"];
        var enums = new List<OracleColumn>
        {
            new("e1", $"ENUM({Labels(small)})", r => r.Next(small.Length + 1).ToString(), CheckKind.Enum),
            new("e300", $"ENUM({Labels(e300)})", r => r.Next(e300.Length + 1).ToString(), CheckKind.Enum),
            new("el", $"ENUM({Labels(latin)}) CHARACTER SET latin1", r => r.Next(latin.Length + 1).ToString(), CheckKind.Enum),
            new("s1", $"SET({Labels(small)})", r => SetLit(r, small.Length), CheckKind.Set),
            new("s9", $"SET({Labels(s9)})", r => SetLit(r, 9), CheckKind.Set),
            new("s17", $"SET({Labels(s17)})", r => SetLit(r, 17), CheckKind.Set),
            new("s33", $"SET({Labels(s33)})", r => SetLit(r, 33), CheckKind.Set),
            new("s64", $"SET({Labels(s64)})", r => SetLit(r, 64), CheckKind.Set),
            new("sl", $"SET({Labels(latin)}) CHARACTER SET latin1", r => SetLit(r, latin.Length), CheckKind.Set),
            new("n", "SMALLINT UNSIGNED", r => UIntLit(r, ushort.MaxValue), CheckKind.Number),
        };
        return
        [
            new("t_num", num),
            new("t_time", time),
            new("t_str", str, "DEFAULT CHARSET=utf8mb4 ROW_FORMAT=DYNAMIC"),
            new("t_enum", enums, "DEFAULT CHARSET=utf8mb4"),
        ];
    }

    // ---------- statements ----------

    /// <summary>Multi-row INSERTs in multi-statement transactions (some rolled back).</summary>
    public string Inserts(OracleTable t, int rows)
    {
        var sb = new StringBuilder();
        var left = rows;
        while (left > 0)
        {
            var rollback = _r.Next(15) == 0;
            sb.Append("BEGIN;\n");
            var statements = _r.Next(1, 4);
            for (var s = 0; s < statements && left > 0; s++)
            {
                var n = Math.Min(left, _r.Next(1, 40));
                sb.Append(InsertStatement(t, n, track: !rollback));
                if (!rollback) left -= n;
            }
            sb.Append(rollback ? "ROLLBACK;\n" : "COMMIT;\n");
        }
        return sb.ToString();
    }

    private string InsertStatement(OracleTable t, int n, bool track)
    {
        var sb = new StringBuilder($"INSERT INTO `{t.Name}` (`id`, {string.Join(", ", t.Columns.Select(c => $"`{c.Name}`"))}) VALUES ");
        var next = _nextId[t.Name];
        for (var i = 0; i < n; i++)
        {
            if (i > 0) sb.Append(',');
            var id = next++;
            if (track) _ids[t.Name].Add(id);
            sb.Append('(').Append(id);
            foreach (var c in t.Columns) sb.Append(", ").Append(Value(c));
            sb.Append(')');
        }
        _nextId[t.Name] = next;
        return sb.Append(";\n").ToString();
    }

    private string Value(OracleColumn c) => _r.Next(12) == 0 ? "NULL" : c.Gen(_r);

    /// <summary>Single- and multi-row UPDATEs (some changing the key) and DELETEs, in transactions.</summary>
    public string Changes(OracleTable t, int statements, bool blobsToo = true)
    {
        var sb = new StringBuilder();
        var ids = _ids[t.Name];
        for (var s = 0; s < statements && ids.Count > 10; s++)
        {
            var inTx = _r.Next(3) == 0;
            if (inTx) sb.Append("BEGIN;\n");
            var kind = _r.Next(20);
            var list = ids.ToList();
            if (kind < 11)
            {
                var id = list[_r.Next(list.Count)];
                var cols = Pick(t, _r.Next(1, 5), blobsToo);
                sb.Append($"UPDATE `{t.Name}` SET {string.Join(", ", cols.Select(c => $"`{c.Name}`={Value(c)}"))} WHERE `id`={id};\n");
            }
            else if (kind < 15)
            {
                var from = list[_r.Next(list.Count)];
                var c = Pick(t, 1, blobsToo)[0];
                sb.Append($"UPDATE `{t.Name}` SET `{c.Name}`={Value(c)} WHERE `id` BETWEEN {from} AND {from + _r.Next(2, 30)};\n");
            }
            else if (kind < 17)
            {
                var id = list[_r.Next(list.Count)];
                var newId = _nextId[t.Name]++;
                ids.Remove(id);
                ids.Add(newId);
                sb.Append($"UPDATE `{t.Name}` SET `id`={newId} WHERE `id`={id};\n");
            }
            else if (kind < 19)
            {
                var victims = Enumerable.Range(0, _r.Next(1, 6)).Select(_ => list[_r.Next(list.Count)]).Distinct().ToList();
                foreach (var v in victims) ids.Remove(v);
                sb.Append($"DELETE FROM `{t.Name}` WHERE `id` IN ({string.Join(",", victims)});\n");
            }
            else
            {
                var from = list[_r.Next(list.Count)];
                var to = from + _r.Next(1, 8);
                ids.RemoveWhere(i => i >= from && i <= to);
                sb.Append($"DELETE FROM `{t.Name}` WHERE `id` BETWEEN {from} AND {to};\n");
            }
            if (inTx) sb.Append("COMMIT;\n");
        }
        return sb.ToString();
    }

    private List<OracleColumn> Pick(OracleTable t, int n, bool blobsToo)
    {
        var candidates = t.Columns.Where(c => blobsToo || !c.IsBlob).ToList();
        return Enumerable.Range(0, n).Select(_ => candidates[_r.Next(candidates.Count)]).DistinctBy(c => c.Name).ToList();
    }

    // ---------- values ----------

    private static string Labels(IEnumerable<string> labels) => string.Join(",", labels.Select(l => $"'{l}'"));

    private static string Lit(string s) => s == "NULL" ? s : $"'{s}'";

    private static string IntLit(Random r, long min, long max) => r.Next(6) switch
    {
        0 => min.ToString(CultureInfo.InvariantCulture),
        1 => max.ToString(CultureInfo.InvariantCulture),
        2 => new[] { 0L, -1L, 1L }[r.Next(3)].ToString(CultureInfo.InvariantCulture),
        _ => ((long)(min + (decimal)r.NextDouble() * ((decimal)max - min))).ToString(CultureInfo.InvariantCulture),
    };

    private static string UIntLit(Random r, ulong max) => r.Next(6) switch
    {
        0 => "0",
        1 => max.ToString(CultureInfo.InvariantCulture),
        2 => (max / 2 + 1).ToString(CultureInfo.InvariantCulture), // top bit set: negative when read as signed
        _ => ((ulong)((decimal)r.NextDouble() * max)).ToString(CultureInfo.InvariantCulture),
    };

    private static string FloatLit(Random r)
    {
        float f = r.Next(8) switch
        {
            0 => new[] { float.MaxValue, -float.MaxValue, float.Epsilon, -float.Epsilon, 1.17549435e-38f, 0f, 16777217f, 0.1f }[r.Next(8)],
            1 => (float)Math.Round(r.NextDouble() * 1000, r.Next(4)),
            _ => BitConverter.Int32BitsToSingle(r.Next() | (r.Next(2) << 31)),
        };
        if (!float.IsFinite(f)) f = 1.5f;
        return ((double)f).ToString("R", CultureInfo.InvariantCulture);
    }

    private static string DoubleText(Random r)
    {
        double d = r.Next(8) switch
        {
            0 => new[] { double.MaxValue, -double.MaxValue, double.Epsilon, 2.2250738585072014E-308, 0.0, 0.1, 1e15, 123456789012345678 }[r.Next(8)],
            1 => Math.Round(r.NextDouble() * 1e6, r.Next(6)) * (r.Next(2) == 0 ? 1 : -1),
            _ => BitConverter.Int64BitsToDouble(r.NextInt64() & ~(1L << 62) | (r.Next(2) == 0 ? 0 : 1L << 62)),
        };
        if (!double.IsFinite(d)) d = -2.5;
        return d.ToString("R", CultureInfo.InvariantCulture);
    }

    private static string DoubleLit(Random r) => DoubleText(r);

    private static string BitLit(Random r, int bits)
    {
        var v = (ulong)r.NextInt64() ^ ((ulong)r.Next() << 40);
        if (r.Next(5) == 0) v = r.Next(2) == 0 ? 0 : ulong.MaxValue;
        if (bits < 64) v &= (1UL << bits) - 1;
        return "b'" + Convert.ToString((long)v, 2) + "'";
    }

    private static string DecimalLit(Random r, int p, int s, bool unsigned)
    {
        var intDigits = p - s;
        string text;
        switch (r.Next(7))
        {
            case 0: text = (intDigits > 0 ? new string('9', intDigits) : "0") + (s > 0 ? "." + new string('9', s) : ""); break;
            case 1: text = s > 0 ? "0." + new string('0', s - 1) + "1" : "1"; break;
            case 2: text = "0"; break;
            case 3: text = (intDigits > 0 ? "1" + new string('0', intDigits - 1) : "0") + (s > 0 ? ".5" : ""); break;
            default:
                var ip = new string(Enumerable.Range(0, r.Next(intDigits + 1)).Select(_ => (char)('0' + r.Next(10))).ToArray());
                var fp = new string(Enumerable.Range(0, r.Next(s + 1)).Select(_ => (char)('0' + r.Next(10))).ToArray());
                text = (ip.Length == 0 ? "0" : ip) + (fp.Length > 0 ? "." + fp : "");
                break;
        }
        return (!unsigned && r.Next(2) == 0 ? "-" : "") + text;
    }

    private static string DateText(Random r) => r.Next(8) switch
    {
        0 => "0000-00-00",
        1 => $"{r.Next(1000, 10000):0000}-00-00",
        2 => $"{r.Next(1000, 10000):0000}-{r.Next(1, 13):00}-00",
        3 => new[] { "1000-01-01", "9999-12-31", "0001-01-01", "2020-02-29" }[r.Next(4)],
        _ => ValidDate(r),
    };

    private static string ValidDate(Random r)
    {
        var y = r.Next(1, 10000);
        var m = r.Next(1, 13);
        return $"{y:0000}-{m:00}-{r.Next(1, DateTime.DaysInMonth(y, m) + 1):00}";
    }

    private static string Frac(Random r, int fsp, bool max = false) =>
        fsp == 0 ? "" : "." + (max ? new string('9', fsp) : new string(Enumerable.Range(0, fsp).Select(_ => (char)('0' + r.Next(10))).ToArray()));

    private static string TimeText(Random r, int fsp) => r.Next(8) switch
    {
        0 => "-838:59:59" + Frac(r, fsp, max: true),
        1 => "838:59:59" + Frac(r, fsp, max: true),
        2 => "-00:00:00" + Frac(r, fsp),
        3 => "00:00:00",
        _ => $"{(r.Next(2) == 0 ? "-" : "")}{r.Next(0, 839):00}:{r.Next(60):00}:{r.Next(60):00}{Frac(r, fsp)}",
    };

    private static string DateTimeText(Random r, int fsp) => r.Next(8) switch
    {
        0 => "0000-00-00 00:00:00",
        1 => "9999-12-31 23:59:59" + Frac(r, fsp, max: true),
        2 => "1000-01-01 00:00:00" + Frac(r, fsp),
        _ => $"{DateText(r)} {r.Next(24):00}:{r.Next(60):00}:{r.Next(60):00}{Frac(r, fsp)}",
    };

    private static string TimestampText(Random r, int fsp) => r.Next(8) switch
    {
        0 => "0000-00-00 00:00:00",
        1 => "2038-01-19 03:14:07" + Frac(r, fsp, max: true),
        2 => "1970-01-01 00:00:01" + Frac(r, fsp),
        _ => DateTime.UnixEpoch.AddSeconds(r.NextInt64(1, int.MaxValue)).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + Frac(r, fsp),
    };

    private static string SetLit(Random r, int members)
    {
        var mask = (ulong)r.NextInt64() ^ ((ulong)r.Next() << 33);
        if (r.Next(6) == 0) mask = r.Next(2) == 0 ? 0 : ulong.MaxValue;
        if (members < 64) mask &= (1UL << members) - 1;
        return mask.ToString(CultureInfo.InvariantCulture);
    }

    private static readonly string[] Any =
    [
        "a", "Z", "0", " ", "'", "\\", "\"", "%", "\n", "\t", "\r", "\0", "\u0001", "\u001f", "é", "ß", "ÿ", "Ω", "ж", "€",
        "中", "文", "日本", "한", "😀", "🚀", "𝄞", "👍🏽", "\u0301", "\u00a0", "\u2028", "\uffff", "‰",
    ];
    private static readonly string[] Bmp = Any.Where(s => !s.Any(char.IsSurrogate)).ToArray();
    private static readonly string[] Cyrillic = ["а", "б", "Ж", "я", "Ё", "ё", "a", " ", "1", "'", "\n", "—", "№"];

    private static string Utf8Lit(Random r, int maxChars, int maxBytes) => TextLit(r, maxChars, Any, maxBytes);

    private static string TextLit(Random r, int maxChars, string[] pool, int maxBytes = int.MaxValue)
    {
        var n = r.Next(8) == 0 ? maxChars : r.Next(Math.Min(maxChars, 60) + 1);
        var sb = new StringBuilder();
        var chars = 0;
        var bytes = 0;
        while (chars < n)
        {
            var piece = r.Next(3) == 0 ? pool[r.Next(pool.Length)] : ((char)r.Next('a', 'z' + 1)).ToString();
            var pc = piece.EnumerateRunes().Count();
            var pb = Encoding.UTF8.GetByteCount(piece);
            if (chars + pc > n || bytes + pb > maxBytes) break;
            sb.Append(piece);
            chars += pc;
            bytes += pb;
        }
        return $"_utf8mb4 X'{Convert.ToHexString(Encoding.UTF8.GetBytes(sb.ToString()))}'";
    }

    private static string Latin1Lit(Random r, int maxBytes)
    {
        var n = r.Next(8) == 0 ? maxBytes : r.Next(Math.Min(maxBytes, 60) + 1);
        var b = new byte[n];
        for (var i = 0; i < n; i++) b[i] = r.Next(3) == 0 ? (byte)r.Next(256) : (byte)r.Next(0x20, 0x7f);
        return $"_latin1 X'{Convert.ToHexString(b)}'";
    }

    private static string BinLit(Random r, int maxBytes)
    {
        var n = r.Next(8) == 0 ? maxBytes : r.Next(Math.Min(maxBytes, 40) + 1);
        var b = new byte[n];
        r.NextBytes(b);
        if (n > 0 && r.Next(4) == 0) b[^1] = 0; // trailing zero bytes (BINARY(n) pads with them)
        return $"X'{Convert.ToHexString(b)}'";
    }

    private static string GeometryLit(Random r) => r.Next(4) switch
    {
        0 => $"ST_GeomFromText('POINT({DoubleText(r)} {DoubleText(r)})', {r.Next(5000)})",
        1 => $"ST_GeomFromText('LINESTRING(0 0, {r.Next(100)} {r.Next(100)}, -1.5 2.25)')",
        2 => "ST_GeomFromText('POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 3 2, 3 3, 2 2))')",
        _ => "ST_GeomFromText('GEOMETRYCOLLECTION(POINT(1 1), LINESTRING(0 0, 1 1))')",
    };

    private static string JsonLit(Random r)
    {
        var doc = r.Next(4) switch
        {
            0 => "{\"a\": 1, \"b\": [true, false, null], \"c\": \"é😀\\n\"}",
            1 => $"[{r.Next()}, {r.NextDouble().ToString("R", CultureInfo.InvariantCulture)}, \"x\"]",
            2 => "\"just a string with 'quotes'\"",
            _ => "{\"nested\": {\"deep\": [1, [2, [3, {\"k\": \"中文\"}]]]}, \"n\": -1.5e300}",
        };
        return $"_utf8mb4 X'{Convert.ToHexString(Encoding.UTF8.GetBytes(doc))}'";
    }

    // ---------- comparison helpers ----------

    /// <summary>Turns our event-JSON value into the text the column's SELECT expression produces.</summary>
    public static string JsonToComparable(System.Text.Json.JsonElement e, CheckKind kind)
    {
        if (e.ValueKind == System.Text.Json.JsonValueKind.Null) return "NULL";
        switch (kind)
        {
            case CheckKind.Number:
            case CheckKind.BitOrYear:
                return e.ValueKind == System.Text.Json.JsonValueKind.Number ? e.GetRawText() : "not a number: " + e.GetRawText();
            case CheckKind.Float:
                return ((double)float.Parse(e.GetRawText(), CultureInfo.InvariantCulture)).ToString("R", CultureInfo.InvariantCulture);
            case CheckKind.Double:
                return double.Parse(e.GetRawText(), CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture);
            case CheckKind.Text:
            case CheckKind.Enum:
                return e.ValueKind == System.Text.Json.JsonValueKind.String ? Convert.ToHexString(Encoding.UTF8.GetBytes(e.GetString()!)) : "not a string: " + e.GetRawText();
            case CheckKind.Set:
                return e.ValueKind == System.Text.Json.JsonValueKind.Array
                    ? Convert.ToHexString(Encoding.UTF8.GetBytes(string.Join(",", e.EnumerateArray().Select(x => x.GetString()))))
                    : "not an array: " + e.GetRawText();
            case CheckKind.Binary:
                return Convert.ToHexString(e.GetBytesFromBase64());
            default:
                return e.ValueKind == System.Text.Json.JsonValueKind.String ? e.GetString()! : "not a string: " + e.GetRawText();
        }
    }

    /// <summary>The SELECT text in comparable form (floats re-printed as round-trip doubles).</summary>
    public static string SqlToComparable(string sql, CheckKind kind) =>
        sql != "NULL" && kind is CheckKind.Float or CheckKind.Double
            ? double.Parse(sql, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture)
            : sql;
}
