using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

namespace PluginHost.Binlog.Json;

/// <summary>
/// One entry of a MySQL 8.0 partial JSON update, as logged in PARTIAL_UPDATE_ROWS_EVENT after-images when
/// <c>binlog_row_value_options=PARTIAL_JSON</c>: an operation, a JSON path such as <c>$.a[2]</c>, and (except for
/// <see cref="MySqlJsonDiffOperation.Remove"/>) the new value as JSON text.
/// </summary>
/// <remarks>
/// Wire format (sql/json_diff.cc): the column carries a 4-byte little-endian length followed by that many bytes of
/// diffs; each diff is an operation byte, a packed-integer path length and the path text, then for REPLACE/INSERT
/// a packed-integer value length and the value in binary JSON. Whether a column of the after-image holds diffs or a
/// full value is decided by the row's partial-update bitmap, which is the row decoder's business.
/// </remarks>
/// <param name="Operation">What to do at <paramref name="Path"/>.</param>
/// <param name="Path">The MySQL JSON path, e.g. <c>$.name</c> or <c>$."a b"[0]</c>.</param>
/// <param name="Value">The value as compact JSON text (<see cref="MySqlJsonBinary.ToJson"/>), or null for Remove.</param>
public sealed record MySqlJsonDiff(MySqlJsonDiffOperation Operation, string Path, string? Value)
{
    /// <summary>Decodes the diffs that follow the 4-byte length of a partial JSON column (i.e. the column bytes after the length prefix).</summary>
    /// <param name="diffs">The diff entries; every byte must belong to a diff.</param>
    /// <returns>The diffs in the order MySQL applies them.</returns>
    /// <exception cref="MySqlJsonFormatException">The diffs or a value in them are malformed.</exception>
    public static IReadOnlyList<MySqlJsonDiff> Decode(ReadOnlySpan<byte> diffs)
    {
        var result = new List<MySqlJsonDiff>();
        var pos = 0;
        while (pos < diffs.Length)
        {
            var start = pos;
            var op = diffs[pos++];
            if (op > (byte)MySqlJsonDiffOperation.Remove)
                throw new MySqlJsonFormatException($"JSON diff has unknown operation {op}", start);
            var operation = (MySqlJsonDiffOperation)op;

            var pathLength = ReadPackedLength(diffs, ref pos, "path length");
            if (pathLength > diffs.Length - pos)
                throw new MySqlJsonFormatException($"JSON diff path of {pathLength} bytes runs past the end", pos);
            var pathBytes = diffs.Slice(pos, (int)pathLength);
            if (pathBytes.IsEmpty || pathBytes[0] != (byte)'$' || !Utf8.IsValid(pathBytes))
                throw new MySqlJsonFormatException("JSON diff path is not a UTF-8 path starting with '$'", pos);
            var path = Encoding.UTF8.GetString(pathBytes);
            pos += (int)pathLength;

            string? value = null;
            if (operation != MySqlJsonDiffOperation.Remove)
            {
                var valueLength = ReadPackedLength(diffs, ref pos, "value length");
                if (valueLength > diffs.Length - pos)
                    throw new MySqlJsonFormatException($"JSON diff value of {valueLength} bytes runs past the end", pos);
                if (valueLength == 0)
                    throw new MySqlJsonFormatException("JSON diff value is empty", pos);
                try
                {
                    value = MySqlJsonBinary.ToJson(diffs.Slice(pos, (int)valueLength));
                }
                catch (MySqlJsonFormatException e)
                {
                    throw new MySqlJsonFormatException($"JSON diff {result.Count} for path {path} has a bad value: {e.Message}", e);
                }
                pos += (int)valueLength;
            }
            result.Add(new MySqlJsonDiff(operation, path, value));
        }
        return result;
    }

    /// <summary>Decodes a diff vector that starts with its own 4-byte little-endian length.</summary>
    /// <param name="data">The length prefix followed by at least that many bytes.</param>
    /// <param name="bytesConsumed">4 plus the length.</param>
    /// <returns>The diffs in the order MySQL applies them.</returns>
    /// <exception cref="MySqlJsonFormatException">The data is truncated or malformed.</exception>
    public static IReadOnlyList<MySqlJsonDiff> DecodeLengthPrefixed(ReadOnlySpan<byte> data, out int bytesConsumed)
    {
        if (data.Length < 4)
            throw new MySqlJsonFormatException("JSON diff vector length truncated", 0);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (length > (uint)(data.Length - 4))
            throw new MySqlJsonFormatException($"JSON diff vector claims {length} bytes but only {data.Length - 4} remain", 0);
        var diffs = Decode(data.Slice(4, (int)length));
        bytesConsumed = 4 + (int)length;
        return diffs;
    }

    /// <summary>MySQL's packed integer (net_field_length): &lt;251 in one byte, 0xfc + 2 bytes, 0xfd + 3 bytes, 0xfe + 8 bytes.</summary>
    private static long ReadPackedLength(ReadOnlySpan<byte> s, ref int pos, string what)
    {
        if (pos >= s.Length)
            throw new MySqlJsonFormatException($"JSON diff {what} truncated", pos);
        var first = s[pos];
        int extra;
        switch (first)
        {
            case < 251:
                pos++;
                return first;
            case 0xfc: extra = 2; break;
            case 0xfd: extra = 3; break;
            case 0xfe: extra = 8; break;
            default: throw new MySqlJsonFormatException($"JSON diff {what} has invalid prefix 0x{first:x2}", pos);
        }
        if (extra > s.Length - pos - 1)
            throw new MySqlJsonFormatException($"JSON diff {what} truncated", pos);
        ulong value = 0;
        for (var i = extra; i >= 1; i--) value = (value << 8) | s[pos + i];
        pos += 1 + extra;
        return value > int.MaxValue ? int.MaxValue + 1L : (long)value;
    }
}
