using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using PluginHost.Binlog;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Values;
using PluginHost.Tests.Binlog.Json;
using static PluginHost.Tests.Support.BinlogEventBuilder;

namespace PluginHost.Tests.Binlog.Decoding;

/// <summary>
/// Encodings the MariaDB oracle cannot produce (MySQL-only formats and metadata), built byte by byte with
/// test-side encoders written from MySQL's format definitions (my_time.cc, decimal.c, rows_event.h).
/// </summary>
public sealed class HandBuiltEncodingTests
{
    private const ulong TableId = 77;

    private static (TableMapEvent Map, RowsEvent Rows) Decode(IReadOnlyList<Col> columns, byte[][] images,
        IEnumerable<(byte, byte[])>? metadata = null, string version = "8.0.36", BinlogEventType rowsType = BinlogEventType.WriteRowsV2)
    {
        var decoder = new BinlogEventDecoder();
        decoder.Decode(FormatDescription(version));
        var map = (TableMapEvent)decoder.Decode(TableMap(TableId, "db", "t", columns, metadata));
        var rows = (RowsEvent)decoder.Decode(Rows(rowsType, TableId, columns.Count, images));
        return (map, rows);
    }

    private static ColumnValue Single(Col column, byte[] value, IEnumerable<(byte, byte[])>? metadata = null) =>
        Decode([column], [Image(value)], metadata).Rows.Rows[0].After![0];

    // ---------- TIME2 / DATETIME2 / TIMESTAMP2 ----------

    /// <summary>MySQL's my_time_packed_to_binary (C integer semantics: arithmetic shift, truncating remainder).</summary>
    private static byte[] Time2(bool negative, int h, int m, int s, int micro, int fsp)
    {
        var hms = ((long)h << 12) | ((long)m << 6) | (long)s;
        var packed = (hms << 24) + micro;
        if (negative) packed = -packed;
        var intPart = packed >> 24;
        var frac = packed % (1L << 24);
        var b = new byte[3 + (fsp + 1) / 2];
        void Int3(long v) { b[0] = (byte)(v >> 16); b[1] = (byte)(v >> 8); b[2] = (byte)v; }
        switch (fsp)
        {
            case 0: Int3(0x800000 + intPart); break;
            case 1: case 2: Int3(0x800000 + intPart); b[3] = (byte)(sbyte)(frac / 10000); break;
            case 3: case 4: Int3(0x800000 + intPart); BinaryPrimitives.WriteInt16BigEndian(b.AsSpan(3), (short)(frac / 100)); break;
            default:
                var v = packed + 0x800000000000L;
                for (var i = 0; i < 6; i++) b[i] = (byte)(v >> (8 * (5 - i)));
                break;
        }
        return b;
    }

    [Theory]
    [InlineData("-00:00:00.1", 1)]
    [InlineData("-00:00:00.01", 2)]
    [InlineData("-00:00:00.001", 3)]
    [InlineData("-00:00:00.0001", 4)]
    [InlineData("-00:00:00.00001", 5)]
    [InlineData("-00:00:00.000001", 6)]
    [InlineData("-838:59:59.999999", 6)]
    [InlineData("-838:59:59.99", 2)]
    [InlineData("-838:59:59", 0)]
    [InlineData("-12:34:56.5", 1)]
    [InlineData("-12:34:56.5000", 4)]
    [InlineData("-00:00:01.000001", 6)]
    [InlineData("-00:00:01.9", 1)]
    [InlineData("-01:00:00.999", 3)]
    [InlineData("00:00:00.000", 3)]
    [InlineData("838:59:59.999999", 6)]
    [InlineData("23:59:59.99", 2)]
    public void Time2_including_negative_fractions(string text, int fsp)
    {
        var neg = text.StartsWith('-');
        var parts = text.TrimStart('-').Split(':', '.');
        var micro = parts.Length > 3 ? int.Parse(parts[3].PadRight(6, '0')) : 0;
        var bytes = Time2(neg, int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]), micro, fsp);
        var v = Single(new Col(ColumnType.Time2, [(byte)fsp]), bytes);
        Assert.Equal(ValueKind.Time, v.Kind);
        Assert.Equal(text, v.ToString());
        Assert.Equal(neg && (micro != 0 || parts[0] != "00" || parts[1] != "00" || parts[2] != "00"), v.DateTimeParts.IsNegative);
    }

    [Fact]
    public void Time2_known_bytes()
    {
        // -00:00:00.1 as TIME(1): int part 0x800000 - 1, fraction byte (char)-10.
        Assert.Equal("-00:00:00.1", Single(new Col(ColumnType.Time2, [1]), [0x7F, 0xFF, 0xFF, 0xF6]).ToString());
        // 00:00:00 as TIME(0) is the zero point 0x800000.
        Assert.Equal("00:00:00", Single(new Col(ColumnType.Time2, [0]), [0x80, 0x00, 0x00]).ToString());
        // -00:00:00.000001 as TIME(6): 0x800000000000 - 1.
        Assert.Equal("-00:00:00.000001", Single(new Col(ColumnType.Time2, [6]), [0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).ToString());
    }

    [Theory]
    [InlineData("2023-07-15 13:45:30.123456", 6)]
    [InlineData("2023-07-15 13:45:30.12", 2)]
    [InlineData("9999-12-31 23:59:59.9999", 4)]
    [InlineData("0000-00-00 00:00:00", 0)]
    [InlineData("2020-00-00 00:00:00.5", 1)]
    [InlineData("1000-01-01 00:00:00.000001", 6)]
    public void DATETIME2_values_decode_at_every_fraction_precision(string text, int fsp)
    {
        var p = text.Split('-', ' ', ':', '.');
        int y = int.Parse(p[0]), mo = int.Parse(p[1]), d = int.Parse(p[2]), h = int.Parse(p[3]), mi = int.Parse(p[4]), s = int.Parse(p[5]);
        var micro = p.Length > 6 ? int.Parse(p[6].PadRight(6, '0')) : 0;
        var ymd = (((long)y * 13 + mo) << 5) | (long)d;
        var intPart = (ymd << 17) | ((long)h << 12) | ((long)mi << 6) | (long)s;
        var bytes = new byte[5 + (fsp + 1) / 2];
        var v5 = intPart + 0x8000000000L;
        for (var i = 0; i < 5; i++) bytes[i] = (byte)(v5 >> (8 * (4 - i)));
        switch (fsp)
        {
            case 1: case 2: bytes[5] = (byte)(micro / 10000); break;
            case 3: case 4: BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(5), (short)(micro / 100)); break;
            case 5: case 6: bytes[5] = (byte)(micro >> 16); bytes[6] = (byte)(micro >> 8); bytes[7] = (byte)micro; break;
        }
        Assert.Equal(text, Single(new Col(ColumnType.DateTime2, [(byte)fsp]), bytes).ToString());
    }

    [Theory]
    [InlineData(1_700_000_000u, 123456, 6, "2023-11-14T22:13:20.123456Z")]
    [InlineData(1u, 500000, 1, "1970-01-01T00:00:01.5Z")]
    [InlineData(2147483647u, 999900, 4, "2038-01-19T03:14:07.9999Z")]
    [InlineData(0u, 0, 2, "0000-00-00 00:00:00.00")]
    public void TIMESTAMP2_values_decode_at_every_fraction_precision(uint seconds, int micro, int fsp, string expected)
    {
        var bytes = new byte[4 + (fsp + 1) / 2];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, seconds);
        switch (fsp)
        {
            case 1: case 2: bytes[4] = (byte)(micro / 10000); break;
            case 3: case 4: BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)(micro / 100)); break;
            case 5: case 6: bytes[4] = (byte)(micro >> 16); bytes[5] = (byte)(micro >> 8); bytes[6] = (byte)micro; break;
        }
        var v = Single(new Col(ColumnType.Timestamp2, [(byte)fsp]), bytes);
        Assert.Equal(expected, v.ToString());
        Assert.Equal(seconds, (uint)v.TimestampSeconds);
    }

    // ---------- DECIMAL ----------

    private static readonly int[] DigitsToBytes = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

    /// <summary>MySQL's decimal2bin, from its definition: 9-digit groups in 4 big-endian bytes, the partial leading
    /// (integer) and trailing (fraction) groups in fewer bytes, negative values inverted, then the top bit flipped.</summary>
    internal static byte[] DecimalBin(string value, int precision, int scale)
    {
        var negative = value.StartsWith('-');
        var parts = value.TrimStart('-').Split('.');
        var intDigits = parts[0].TrimStart('0').PadLeft(precision - scale, '0');
        var fracDigits = (parts.Length > 1 ? parts[1] : "").PadRight(scale, '0');
        var bytes = new List<byte>();
        void Group(string digits)
        {
            if (digits.Length == 0) return;
            var n = DigitsToBytes[digits.Length];
            var v = uint.Parse(digits);
            for (var i = n - 1; i >= 0; i--) bytes.Add((byte)(v >> (8 * i)));
        }
        var lead = intDigits.Length % 9;
        Group(intDigits[..lead]);
        for (var i = lead; i < intDigits.Length; i += 9) Group(intDigits.Substring(i, 9));
        for (var i = 0; i + 9 <= fracDigits.Length; i += 9) Group(fracDigits.Substring(i, 9));
        Group(fracDigits[(fracDigits.Length / 9 * 9)..]);
        var result = bytes.ToArray();
        if (negative) for (var i = 0; i < result.Length; i++) result[i] ^= 0xFF;
        result[0] ^= 0x80;
        return result;
    }

    [Theory]
    [InlineData("1234567890.1234", 14, 4, "810DFB38D204D2")] // the example of MySQL's decimal.c
    [InlineData("-1234567890.1234", 14, 4, "7EF204C72DFB2D")]
    public void Decimal_known_bytes(string value, int precision, int scale, string hex)
    {
        Assert.Equal(hex, Convert.ToHexString(DecimalBin(value, precision, scale)));
        var v = Single(new Col(ColumnType.NewDecimal, [(byte)precision, (byte)scale]), Convert.FromHexString(hex));
        Assert.Equal(value, v.DecimalString());
    }

    [Theory]
    [InlineData("0", 10, 0)]
    [InlineData("1234567890", 10, 0)]
    [InlineData("-1234567890", 10, 0)]
    [InlineData("-1", 1, 0)]
    [InlineData("9", 1, 0)]
    [InlineData("0.12345", 5, 5)]
    [InlineData("-0.12345", 5, 5)]
    [InlineData("0.00001", 5, 5)]
    [InlineData("0.000000000000000000000000000001", 65, 30)]
    [InlineData("-0.000000000000000000000000000001", 65, 30)]
    [InlineData("99999999999999999999999999999999999.999999999999999999999999999999", 65, 30)]
    [InlineData("-99999999999999999999999999999999999.999999999999999999999999999999", 65, 30)]
    [InlineData("100000000000000000000000000000000000000000000000000000000000000", 65, 0)]
    [InlineData("1000000000.000000001", 19, 9)]
    [InlineData("-1000000000.000000001", 19, 9)]
    [InlineData("0.000000001", 18, 9)]
    [InlineData("5.000000000", 10, 9)]
    [InlineData("-0.5", 2, 1)]
    [InlineData("123456789012345678.90", 20, 2)]
    public void Decimal_edge_cases(string value, int precision, int scale)
    {
        var v = Single(new Col(ColumnType.NewDecimal, [(byte)precision, (byte)scale]), DecimalBin(value, precision, scale));
        Assert.Equal(value, v.DecimalString());
        Assert.Equal(value, v.ToString());
    }

    [Fact]
    public void Decimal_random_round_trips()
    {
        var rng = new Random(99);
        for (var n = 0; n < 5000; n++)
        {
            var p = rng.Next(1, 66);
            var s = rng.Next(0, Math.Min(p, 30) + 1);
            var ip = new string(Enumerable.Range(0, rng.Next(p - s + 1)).Select(_ => (char)('0' + rng.Next(10))).ToArray()).TrimStart('0');
            var fp = new string(Enumerable.Range(0, s).Select(_ => (char)('0' + rng.Next(10))).ToArray());
            var text = (ip.Length == 0 ? "0" : ip) + (s > 0 ? "." + fp : "");
            if (rng.Next(2) == 0 && text.Any(c => c is >= '1' and <= '9')) text = "-" + text;
            var v = Single(new Col(ColumnType.NewDecimal, [(byte)p, (byte)s]), DecimalBin(text, p, s));
            Assert.Equal(text, v.DecimalString());
        }
    }

    [Fact]
    public void Decimal_with_an_impossible_digit_group_throws_BinlogFormatException()
    {
        // DECIMAL(10,0): 1 leading digit in 1 byte, then a 9-digit group; 0xFFFFFFFF > 999999999.
        var v = Single(new Col(ColumnType.NewDecimal, [10, 0]), [0x80, 0x7F, 0xFF, 0xFF, 0xFF]);
        Assert.Throws<BinlogFormatException>(() => v.DecimalString());
        // The leading partial group of 1 digit cannot hold 10..255.
        var w = Single(new Col(ColumnType.NewDecimal, [10, 0]), [0x8A, 0x00, 0x00, 0x00, 0x00]);
        Assert.Throws<BinlogFormatException>(() => w.ToString());
    }

    // ---------- CHAR > 255, ENUM, SET ----------

    [Fact]
    public void Char_longer_than_255_bytes_has_its_length_split_over_the_type_byte()
    {
        // CHAR(255) utf8mb4 = 1020 bytes: meta byte0 = 0xFE ^ ((1020 >> 4) & 0x30), byte1 = 1020 & 0xFF.
        const int max = 1020;
        var meta = new[] { (byte)(0xFE ^ ((max >> 4) & 0x30)), (byte)(max & 0xFF) };
        Assert.Equal(new byte[] { 0xCE, 0xFC }, meta);
        var text = string.Concat(Enumerable.Repeat("😀", 255));
        var bytes = Encoding.UTF8.GetBytes(text);
        var (map, rows) = Decode([new Col(ColumnType.String, meta)], [Image([.. LE16(bytes.Length), .. bytes])],
            [(3 /* COLUMN_CHARSET */, LenEnc(45))]);
        Assert.Equal(ColumnType.String, map.Columns[0].Type);
        Assert.Equal(max, map.Columns[0].Metadata);
        Assert.Equal(text, rows.Rows[0].After![0].AsString());

        // CHAR(100) utf8mb4 = 400 bytes; and a 255-byte CHAR keeps a one-byte length.
        var meta400 = new[] { (byte)(0xFE ^ ((400 >> 4) & 0x30)), (byte)(400 & 0xFF) };
        var v400 = Single(new Col(ColumnType.String, meta400), [.. LE16(3), .. "abc"u8]);
        Assert.Equal("abc", v400.AsString());
        var v255 = Single(new Col(ColumnType.String, [0xFE, 0xFF]), [3, .. "xyz"u8]);
        Assert.Equal("xyz", v255.AsString());
    }

    [Fact]
    public void Enum_and_set_labels_are_decoded_in_their_charset_whatever_the_field_order()
    {
        Col[] columns =
        [
            new(ColumnType.String, [(byte)ColumnType.Enum, 2]),   // ENUM of > 255 labels: 2 bytes
            new(ColumnType.String, [(byte)ColumnType.Set, 8]),    // SET of 64 members: 8 bytes
            new(ColumnType.String, [(byte)ColumnType.Enum, 1]),   // latin1 ENUM
        ];
        var enumLabels = Enumerable.Range(1, 300).Select(i => i == 300 ? "é300" : "v" + i).ToArray();
        var setLabels = Enumerable.Range(1, 64).Select(i => "m" + i).ToArray();
        var latin = new[] { "é", "ÿ" };
        byte[] EnumField() =>
        [
            .. LenEnc(300), .. enumLabels.SelectMany(l => LenEncString(l)),
            .. LenEnc(2), .. latin.SelectMany(l => LenEncString(l, Encoding.Latin1)),
        ];
        byte[] SetField() => [.. LenEnc(64), .. setLabels.SelectMany(l => LenEncString(l))];
        // ENUM_AND_SET_DEFAULT_CHARSET (10): default utf8mb4 (45), column index 2 is latin1 (8).
        byte[] charset = [.. LenEnc(45), .. LenEnc(2), .. LenEnc(8)];
        var image = Image([.. LE16(300)], BitConverter.GetBytes(0x8000_0000_0000_0001UL), [2]);
        foreach (var order in new[] { new byte[] { 10, 5, 6 }, [5, 6, 10], [6, 10, 5] })
        {
            var fields = order.Select(f => (f, f switch { 10 => charset, 5 => SetField(), _ => EnumField() })).ToList();
            var (map, rows) = Decode(columns, [image], fields);
            Assert.Equal(enumLabels, map.Columns[0].Labels);
            Assert.Equal(latin, map.Columns[2].Labels);
            var after = rows.Rows[0].After!;
            Assert.Equal("é300", after[0].EnumLabel);
            Assert.Equal(300, after[0].Int64);
            Assert.Equal(new[] { "m1", "m64" }, after[1].SetLabels);
            Assert.Equal(0x8000_0000_0000_0001UL, after[1].UInt64);
            Assert.Equal("ÿ", after[2].EnumLabel);
        }
    }

    [Fact]
    public void Enum_index_zero_is_the_empty_label_and_unknown_labels_give_numbers()
    {
        var e = Single(new Col(ColumnType.String, [(byte)ColumnType.Enum, 1]), [0], [(6, [.. LenEnc(1), .. LenEncString("a")])]);
        Assert.Equal("", e.EnumLabel);
        var bare = Single(new Col(ColumnType.String, [(byte)ColumnType.Set, 1]), [5]);
        Assert.Null(bare.SetLabels);
        Assert.Equal("5", bare.ToString());
    }

    // ---------- SIGNEDNESS, PRIMARY KEY ----------

    [Fact]
    public void Signedness_bitmap_is_most_significant_bit_first_over_numeric_columns_only()
    {
        // 10 numeric columns (bits), with a YEAR and a VARCHAR among them (no bits for MySQL).
        Col[] columns =
        [
            new(ColumnType.Tiny, []), new(ColumnType.Short, []), new(ColumnType.Year, []), new(ColumnType.Int24, []),
            new(ColumnType.Long, []), new(ColumnType.VarChar, LE16(10)), new(ColumnType.LongLong, []),
            new(ColumnType.Float, [4]), new(ColumnType.Double, [8]), new(ColumnType.NewDecimal, [5, 2]),
            new(ColumnType.Tiny, []), new(ColumnType.Long, []),
        ];
        // numeric order: tiny, short, int24, long, longlong, float, double, decimal, tiny, long
        // unsigned:      1     0      1      0     1         0      0       0        1     1   -> 1010 1000 | 11xx xxxx
        byte[] signedness = [0b1010_1000, 0b1100_0000];
        var image = Image([0xFF], [0xFF, 0xFF], [0], [0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0xFF], [1, (byte)'x'],
            BitConverter.GetBytes(ulong.MaxValue), BitConverter.GetBytes(1.5f), BitConverter.GetBytes(2.5), DecimalBin("1.50", 5, 2),
            [0xFF], [0xFF, 0xFF, 0xFF, 0xFF]);
        var (map, rows) = Decode(columns, [image], [(1, signedness)]);
        Assert.Equal(new[] { true, false, false, true, false, false, true, false, false, false, true, true },
            map.Columns.Select(c => c.IsUnsigned).ToArray());
        var v = rows.Rows[0].After!;
        Assert.Equal("255", v[0].ToString());
        Assert.Equal("-1", v[1].ToString());
        Assert.Equal("16777215", v[3].ToString());
        Assert.Equal("-1", v[4].ToString());
        Assert.Equal("18446744073709551615", v[6].ToString());
        Assert.Equal("255", v[10].ToString());
        Assert.Equal("4294967295", v[11].ToString());

        // MariaDB counts YEAR in the bitmap: the same bits then mean YEAR=unsigned, and the rest shift by one.
        var decoder = new BinlogEventDecoder();
        decoder.Decode(FormatDescription("10.11.6-MariaDB-log"));
        var mariaMap = (TableMapEvent)decoder.Decode(TableMap(TableId, "db", "t", columns, [(1, signedness)]));
        // order with YEAR: tiny, short, year, int24, long, longlong, float, double, decimal, tiny, long
        Assert.Equal(new[] { true, false, true, false, true, false, false, false, false, true, true, false },
            mariaMap.Columns.Select(c => c.IsUnsigned).ToArray());
    }

    [Fact]
    public void Signedness_bitmap_too_short_throws_BinlogFormatException()
    {
        Col[] columns = Enumerable.Range(0, 9).Select(_ => new Col(ColumnType.Tiny, [])).ToArray();
        var decoder = new BinlogEventDecoder();
        decoder.Decode(FormatDescription());
        Assert.Throws<BinlogFormatException>(() => decoder.Decode(TableMap(TableId, "db", "t", columns, [(1, [0xFF])])));
    }

    [Fact]
    public void Primary_key_metadata_simple_and_with_prefix()
    {
        Col[] columns = [new(ColumnType.Long, []), new(ColumnType.VarChar, LE16(40)), new(ColumnType.Long, [])];
        byte[] names = [.. LenEncString("a"), .. LenEncString("b"), .. LenEncString("c")];
        var (map, _) = Decode(columns, [], [(4, names), (8, [.. LenEnc(2), .. LenEnc(0)])]);
        Assert.Equal(new[] { 2, 0 }, map.PrimaryKey);
        Assert.Equal(new[] { true, false, true }, map.Columns.Select(c => c.IsPrimaryKey).ToArray());
        Assert.Equal(new[] { "a", "b", "c" }, map.Columns.Select(c => c.Name).ToArray());

        var (prefixed, _) = Decode(columns, [], [(9, [.. LenEnc(1), .. LenEnc(10), .. LenEnc(0), .. LenEnc(0)])]);
        Assert.Equal(new[] { 1, 0 }, prefixed.PrimaryKey);
        Assert.Equal(new[] { true, true, false }, prefixed.Columns.Select(c => c.IsPrimaryKey).ToArray());

        var decoder = new BinlogEventDecoder();
        decoder.Decode(FormatDescription());
        Assert.Throws<BinlogFormatException>(() => decoder.Decode(TableMap(TableId, "db", "t", columns, [(8, LenEnc(3))])));
    }

    [Fact]
    public void Geometry_counts_in_the_charset_list_of_MariaDB_only()
    {
        Col[] columns = [new(ColumnType.Geometry, [4]), new(ColumnType.VarChar, LE16(20)), new(ColumnType.Blob, [2])];
        // DEFAULT_CHARSET: default binary (63), index 1 -> latin1 (8).
        byte[] charset = [.. LenEnc(63), .. LenEnc(1), .. LenEnc(8)];
        var maria = new BinlogEventDecoder();
        maria.Decode(FormatDescription("10.11.6-MariaDB"));
        var m = (TableMapEvent)maria.Decode(TableMap(TableId, "db", "t", columns, [(2, charset)]));
        Assert.Equal(8, m.Columns[1].Collation);   // geometry is index 0, the VARCHAR index 1
        Assert.Equal(63, m.Columns[2].Collation);
        var mysql = new BinlogEventDecoder();
        mysql.Decode(FormatDescription("8.0.36"));
        var y = (TableMapEvent)mysql.Decode(TableMap(TableId, "db", "t", columns, [(2, charset)]));
        Assert.Equal(63, y.Columns[1].Collation);  // the VARCHAR is index 0
        Assert.Equal(8, y.Columns[2].Collation);
    }

    // ---------- BINARY(n), JSON, corrupt images ----------

    [Fact]
    public void Binary_n_gets_its_zero_padding_back()
    {
        var v = Single(new Col(ColumnType.String, [0xFE, 8]), [2, 0xAB, 0xCD], [(3, LenEnc(63))]);
        Assert.Equal(ValueKind.Bytes, v.Kind);
        Assert.Equal(new byte[] { 0xAB, 0xCD }, v.RawBytes.ToArray());
        Assert.Equal(8, v.BinaryLength);
        Assert.Equal(new byte[] { 0xAB, 0xCD, 0, 0, 0, 0, 0, 0 }, v.AsBytes());
        Assert.Equal(Convert.ToBase64String(new byte[] { 0xAB, 0xCD, 0, 0, 0, 0, 0, 0 }), v.ToString());
        Assert.Equal($"\"{Convert.ToBase64String(new byte[] { 0xAB, 0xCD, 0, 0, 0, 0, 0, 0 })}\"", Json(v));
        // VARBINARY is not padded.
        var vb = Single(new Col(ColumnType.VarChar, LE16(8)), [2, 0xAB, 0xCD], [(3, LenEnc(63))]);
        Assert.Equal(2, vb.AsBytes().Length);
    }

    [Fact]
    public void MySql_json_column_decodes_and_corrupt_json_throws_BinlogFormatException()
    {
        var doc = MySqlJsonTestEncoder.Encode("{\"a\":[1,2.5,\"é\",null,true],\"bb\":{\"c\":-7}}");
        var v = Single(new Col(ColumnType.Json, [4]), [.. LE32((uint)doc.Length), .. doc]);
        Assert.Equal(ValueKind.Json, v.Kind);
        Assert.Equal("{\"a\":[1,2.5,\"é\",null,true],\"bb\":{\"c\":-7}}", v.JsonText());
        Assert.Equal("{\"a\":[1,2.5,\"é\",null,true],\"bb\":{\"c\":-7}}", Json(v));
        var bad = (byte[])doc.Clone();
        bad[0] = 0x7E; // unknown type code
        var w = Single(new Col(ColumnType.Json, [4]), [.. LE32((uint)bad.Length), .. bad]);
        var e = Assert.Throws<BinlogFormatException>(() => w.ToString());
        Assert.IsType<PluginHost.Binlog.Json.MySqlJsonFormatException>(e.InnerException);
        Assert.Throws<BinlogFormatException>(() => Json(w));
    }

    [Fact]
    public void Row_images_without_any_column_are_rejected_instead_of_looping()
    {
        var decoder = new BinlogEventDecoder();
        decoder.Decode(FormatDescription());
        decoder.Decode(TableMap(TableId, "db", "t", [new Col(ColumnType.Long, [])]));
        var e = Assert.Throws<BinlogFormatException>(() =>
            decoder.Decode(Rows(BinlogEventType.WriteRowsV2, TableId, 1, [[1, 2, 3]], present: [0])));
        Assert.Contains("no columns", e.Message);
    }

    [Fact]
    public void Nan_and_infinity_are_rejected()
    {
        var decoder = new BinlogEventDecoder();
        decoder.Decode(FormatDescription());
        decoder.Decode(TableMap(TableId, "db", "t", [new Col(ColumnType.Double, [8])]));
        Assert.Throws<BinlogFormatException>(() =>
            decoder.Decode(Rows(BinlogEventType.WriteRowsV2, TableId, 1, [Image(BitConverter.GetBytes(double.NaN))])));
    }

    [Fact]
    public void Crc_of_a_hand_built_stream_is_verified()
    {
        var decoder = new BinlogEventDecoder();
        decoder.Decode(FormatDescription(crc: true));
        Assert.Equal(ChecksumAlgorithm.Crc32, decoder.Checksum);
        var map = TableMap(TableId, "db", "t", [new Col(ColumnType.Long, [])], crc: true);
        decoder.Decode(map);
        map[25] ^= 1;
        Assert.Contains("CRC32", Assert.Throws<BinlogFormatException>(() => decoder.Decode(map)).Message);
        // A corrupt FORMAT_DESCRIPTION is reported as a checksum failure before its contents are trusted.
        var fde = FormatDescription(crc: true);
        fde[19 + 2 + 50 + 4] = 20; // header length
        Assert.Contains("CRC32", Assert.Throws<BinlogFormatException>(() => new BinlogEventDecoder().Decode(fde)).Message);
    }

    private static string Json(ColumnValue v)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            ColumnValueJson.Write(w, v);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
