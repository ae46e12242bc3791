using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Binlog;
using PluginHost.Binlog.Decoding;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Files;
using PluginHost.Binlog.Values;

namespace PluginHost.Tests.Support;

/// <summary>
/// Prints our decoded <see cref="ColumnValue"/>s exactly the way mariadb-binlog's <c>log_event_print_value</c>
/// does, so that our decoder can be compared with MariaDB's byte for byte — but for MariaDB JSON the live client
/// embeds (rendered as its event JSON and compared as JSON with the text mariadb-binlog prints).
/// </summary>
public static class BinlogRenderer
{
    /// <summary>Decodes a binlog file with our reader and renders every row like mariadb-binlog -v.</summary>
    public static List<OracleRow> DecodeFile(string path, Func<BinlogEventDecoder>? decoderFactory = null)
    {
        var rows = new List<OracleRow>();
        using var reader = OpenReader(path, decoderFactory?.Invoke());
        while (reader.ReadEvent() is { } e)
        {
            if (e is RowsEvent re) AddRows(rows, re, reader.FileName);
            else if (e is TransactionPayloadEvent tp)
                foreach (var inner in tp.Events)
                    if (inner is RowsEvent ire) AddRows(rows, ire, reader.FileName + "(payload@" + tp.Header.Position + ")");
        }
        return rows;
    }

    public static BinlogFileReader OpenReader(string path, BinlogEventDecoder? decoder = null)
    {
        if (!path.EndsWith(".gz", StringComparison.Ordinal)) return new BinlogFileReader(path, decoder);
        var gz = new System.IO.Compression.GZipStream(File.OpenRead(path), System.IO.Compression.CompressionMode.Decompress);
        return new BinlogFileReader(new BufferedStream(gz, 1 << 16), Path.GetFileName(path)[..^3], decoder, ownsStream: true);
    }

    /// <summary>Renders the rows of one rows event (from a file or the live client) like mariadb-binlog -v;
    /// <paramref name="file"/> names where it came from in messages.</summary>
    public static void AddRows(List<OracleRow> rows, RowsEvent re, string file)
    {
        var op = re.Kind switch { RowChangeKind.Insert => "INSERT", RowChangeKind.Update => "UPDATE", _ => "DELETE" };
        var table = $"`{re.Table.Database}`.`{re.Table.Table}`";
        foreach (var change in re.Rows)
        {
            var row = new OracleRow { Op = op, Table = table, Where = $"{file}@{re.Header.Position}" };
            if (change.Before != null) Image(row, "WHERE", row.Before, change.Before, re.Table);
            if (change.After != null) Image(row, "SET", row.After, change.After, re.Table);
            rows.Add(row);
        }
    }

    private static void Image(OracleRow row, string name, List<(int, byte[])> image, ColumnValue[] values, TableMapEvent table)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i].IsMissing) continue;
            if (values[i].IsJsonText)
            {
                // MariaDB JSON the live client recognised: its event JSON (embedded), compared as JSON (see Diff).
                row.JsonValues.Add((name, i + 1));
                image.Add((i + 1, EventJson(values[i])));
            }
            else image.Add((i + 1, Render(table.Columns[i], values[i])));
        }
    }

    private static byte[] EventJson(in ColumnValue v)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, PluginHost.Sdk.ChangeEventJson.WriterOptions)) ColumnValueJson.Write(w, v);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One value the way mariadb-binlog prints it (bytes, since strings are raw in their charset).</summary>
    public static byte[] Render(TableColumn c, in ColumnValue v)
    {
        if (v.IsNull) return "NULL"u8.ToArray();
        var meta = c.Metadata;
        switch (c.Type)
        {
            case ColumnType.Tiny: return Ascii(SignedUnsigned(v, 8));
            case ColumnType.Short: return Ascii(SignedUnsigned(v, 16));
            case ColumnType.Int24: return Ascii(SignedUnsigned(v, 24));
            case ColumnType.Long: return Ascii(SignedUnsigned(v, 32));
            case ColumnType.LongLong: return Ascii(SignedUnsigned(v, 64));
            case ColumnType.NewDecimal: return Ascii(v.DecimalString());
            case ColumnType.Float: return Ascii(CFormat.FloatLikeMariaDbBinlog(v.Float));
            case ColumnType.Double: return Ascii(CFormat.DoubleLikeMariaDbBinlog(v.Double));
            case ColumnType.Bit: return Ascii(Bits(v.UInt64, v.Aux));
            case ColumnType.Timestamp: return Ascii(v.TimestampSeconds.ToString(CultureInfo.InvariantCulture));
            case ColumnType.Timestamp2:
            {
                var s = v.TimestampSeconds.ToString(CultureInfo.InvariantCulture);
                if (meta > 0) s += "." + (v.TimestampMicroseconds / Pow10(6 - meta)).ToString(new string('0', meta));
                return Ascii(s);
            }
            case ColumnType.DateTime:
            {
                var d = v.DateTimeParts;
                return Ascii($"'{d.Year:0000}-{d.Month:00}-{d.Day:00} {d.Hour:00}:{d.Minute:00}:{d.Second:00}'");
            }
            case ColumnType.DateTime2:
            {
                var d = v.DateTimeParts;
                return Ascii($"'{(d.IsNegative ? "-" : "")}{d.Year:0000}-{d.Month:00}-{d.Day:00} {d.Hour:00}:{d.Minute:00}:{d.Second:00}{Frac(d.Microsecond, meta)}'");
            }
            case ColumnType.Time:
            {
                var d = v.DateTimeParts;
                return Ascii($"'{(d.IsNegative ? "-" : "")}{d.Hour:00}:{d.Minute:00}:{d.Second:00}'");
            }
            case ColumnType.Time2:
            {
                var d = v.DateTimeParts;
                return Ascii($"'{(d.IsNegative ? "-" : "")}{d.Hour:00}:{d.Minute:00}:{d.Second:00}{Frac(d.Microsecond, meta)}'");
            }
            case ColumnType.Date:
            case ColumnType.NewDate:
            {
                var d = v.DateTimeParts;
                return Ascii($"'{d.Year:0000}:{d.Month:00}:{d.Day:00}'");
            }
            // mariadb-binlog prints the stored byte + 1900, so the zero year 0000 comes out as 1900.
            case ColumnType.Year: return Ascii((v.Int64 == 0 ? 1900 : v.Int64).ToString("0000", CultureInfo.InvariantCulture));
            case ColumnType.Enum: return Ascii(v.Int64.ToString(CultureInfo.InvariantCulture));
            case ColumnType.Set:
            {
                var bytes = meta & 0xFF;
                var sb = new StringBuilder("b'");
                for (var i = 0; i < bytes; i++)
                {
                    var b = (byte)(v.UInt64 >> (8 * i));
                    for (var bit = 7; bit >= 0; bit--) sb.Append((b >> bit & 1) != 0 ? '1' : '0');
                }
                return Ascii(sb.Append('\'').ToString());
            }
            case ColumnType.VarChar:
            case ColumnType.VarString:
            case ColumnType.String:
            case ColumnType.Blob:
            case ColumnType.TinyBlob:
            case ColumnType.MediumBlob:
            case ColumnType.LongBlob:
            case ColumnType.Geometry:
                return Quote(v.RawBytes);
            default:
                throw new NotSupportedException($"mariadb-binlog cannot print {c.Type}");
        }
    }

    private static string SignedUnsigned(in ColumnValue v, int width)
    {
        var mask = width == 64 ? ulong.MaxValue : (1UL << width) - 1;
        var u = (v.Kind == ValueKind.UInt ? v.UInt64 : (ulong)v.Int64) & mask;
        var s = width == 64 ? (long)u : (long)(u << (64 - width)) >> (64 - width);
        return s < 0 ? $"{s} ({u})" : s.ToString(CultureInfo.InvariantCulture);
    }

    private static string Bits(ulong value, int bits)
    {
        var sb = new StringBuilder("b'");
        for (var i = bits - 1; i >= 0; i--) sb.Append((value >> i & 1) != 0 ? '1' : '0');
        return sb.Append('\'').ToString();
    }

    private static string Frac(int micro, int digits) =>
        digits <= 0 ? "" : "." + (micro / Pow10(6 - digits)).ToString(new string('0', digits), CultureInfo.InvariantCulture);

    private static int Pow10(int n)
    {
        var r = 1;
        for (var i = 0; i < n; i++) r *= 10;
        return r;
    }

    /// <summary>my_b_write_quoted: bytes above 0x1F raw, others as <c>\xHH</c>.</summary>
    public static byte[] Quote(ReadOnlySpan<byte> raw)
    {
        var ms = new MemoryStream(raw.Length + 2);
        ms.WriteByte((byte)'\'');
        foreach (var b in raw)
        {
            if (b > 0x1F) ms.WriteByte(b);
            else ms.Write(Encoding.ASCII.GetBytes($"\\x{b:x2}"));
        }
        ms.WriteByte((byte)'\'');
        return ms.ToArray();
    }

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    /// <summary>Compares two row lists value for value; returns the first differences (empty when equal).</summary>
    public static List<string> Diff(IReadOnlyList<OracleRow> oracle, IReadOnlyList<OracleRow> ours, int max = 20)
    {
        var diffs = new List<string>();
        if (oracle.Count != ours.Count) diffs.Add($"row count: mariadb-binlog {oracle.Count}, ours {ours.Count}");
        for (var i = 0; i < Math.Min(oracle.Count, ours.Count) && diffs.Count < max; i++)
        {
            var o = oracle[i];
            var u = ours[i];
            if (o.Op != u.Op || o.Table != u.Table)
            {
                diffs.Add($"row {i}: mariadb-binlog {o.Op} {o.Table}, ours {u.Op} {u.Table} ({u.Where})");
                continue;
            }
            CompareImage(i, "WHERE", o.Before, u.Before, u, diffs, max);
            CompareImage(i, "SET", o.After, u.After, u, diffs, max);
        }
        return diffs;
    }

    private static bool SameJson(byte[] printed, byte[] embedded, out string why)
    {
        try
        {
            if (JsonNode.DeepEquals(JsonNode.Parse(PrintedJsonText(printed)), JsonNode.Parse(embedded))) { why = ""; return true; }
            why = "different JSON";
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            why = e.Message;
        }
        return false;
    }

    /// <summary>
    /// The stored JSON text of a value mariadb-binlog printed: quotes removed and its <c>\xHH</c> escapes (bytes below
    /// 0x20, which valid JSON has only as whitespace between tokens) undone outside JSON strings; inside them a backslash
    /// is JSON's own escape and is kept with the character after it.
    /// </summary>
    public static byte[] PrintedJsonText(byte[] printed)
    {
        if (printed.Length < 2 || printed[0] != '\'' || printed[^1] != '\'')
            throw new InvalidDataException("not a quoted value: " + OracleRow.Show(printed));
        var text = printed.AsSpan(1, printed.Length - 2);
        var result = new MemoryStream(text.Length);
        var inString = false;
        for (var i = 0; i < text.Length; i++)
        {
            var b = text[i];
            if (b == '\\' && inString && i + 1 < text.Length)
            {
                result.WriteByte(b);
                result.WriteByte(text[++i]);
                continue;
            }
            if (b == '\\' && !inString && i + 3 < text.Length && text[i + 1] == 'x')
            {
                result.WriteByte(Convert.ToByte(Encoding.ASCII.GetString(text.Slice(i + 2, 2)), 16));
                i += 3;
                continue;
            }
            if (b == '"') inString = !inString;
            result.WriteByte(b);
        }
        return result.ToArray();
    }

    private static void CompareImage(int i, string name, List<(int Column, byte[] Value)> o, List<(int Column, byte[] Value)> u,
        OracleRow row, List<string> diffs, int max)
    {
        if (o.Count != u.Count)
        {
            diffs.Add($"row {i} {row.Table} {name}: mariadb-binlog has {o.Count} columns, ours {u.Count} ({row.Where})");
            return;
        }
        for (var k = 0; k < o.Count && diffs.Count < max; k++)
        {
            if (o[k].Column == u[k].Column && row.JsonValues.Contains((name, u[k].Column)))
            {
                // Ours is embedded JSON, mariadb-binlog's the stored text: equal when they parse to the same JSON.
                if (!SameJson(o[k].Value, u[k].Value, out var why))
                    diffs.Add($"row {i} {row.Op} {row.Table} {name} @{o[k].Column} (JSON): mariadb-binlog [{OracleRow.Show(o[k].Value)}] ours [{OracleRow.Show(u[k].Value)}]: {why} ({row.Where})");
                continue;
            }
            if (o[k].Column != u[k].Column || !o[k].Value.AsSpan().SequenceEqual(u[k].Value))
                diffs.Add($"row {i} {row.Op} {row.Table} {name} @{o[k].Column}: mariadb-binlog [{OracleRow.Show(o[k].Value)}] ours @{u[k].Column} [{OracleRow.Show(u[k].Value)}] ({row.Where})");
        }
    }
}
