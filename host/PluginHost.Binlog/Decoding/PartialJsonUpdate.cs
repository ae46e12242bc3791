using PluginHost.Binlog.Events;
using PluginHost.Binlog.Json;
using PluginHost.Binlog.Values;

namespace PluginHost.Binlog.Decoding;

/// <summary>
/// The shared image of a PARTIAL_UPDATE_ROWS_EVENT row (rows_event.h): between the before and after images,
/// <c>value_options</c> as a packed integer (bit 0 PARTIAL_JSON_UPDATES, no other bit defined) and, when that bit is
/// set, <c>partial_bits</c>: one bit per JSON column of the table (whether or not an image holds it), set when the
/// after image holds that column as diffs (<see cref="MySqlJsonDiff"/>) rather than a full document.
/// </summary>
internal static class PartialJsonUpdate
{
    /// <summary>Reads the shared image at <paramref name="pos"/>; returns the position after it and, in
    /// <paramref name="partialColumns"/>, which columns (by index) hold diffs (null when none can).</summary>
    public static int ReadSharedImage(byte[] buffer, int pos, int end, IReadOnlyList<TableColumn> columns, out bool[]? partialColumns)
    {
        partialColumns = null;
        var r = new PacketReader(buffer.AsSpan(pos, end - pos));
        var options = r.ReadLengthEncoded();
        if ((options & ~1UL) != 0)
            throw new BinlogFormatException($"partial update row has unknown value options 0x{options:x} (only PARTIAL_JSON_UPDATES = 1 is defined)");
        if (options == 0) return pos + r.Position;
        var jsonCount = 0;
        foreach (var c in columns)
            if (c.Type == ColumnType.Json) jsonCount++;
        var bits = r.ReadBytes((jsonCount + 7) / 8);
        var json = 0;
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i].Type != ColumnType.Json) continue;
            if ((bits[json >> 3] & (1 << (json & 7))) != 0) (partialColumns ??= new bool[columns.Count])[i] = true;
            json++;
        }
        return pos + r.Position;
    }

    /// <summary>Turns each diff column of <paramref name="after"/> into the full value: its diffs applied to the
    /// column's value in <paramref name="before"/>.</summary>
    /// <exception cref="BinlogFormatException">The before image lacks the column (binlog_row_image=MINIMAL), it is
    /// NULL, or the diffs are malformed or do not apply; the message names the table and column.</exception>
    public static void Apply(TableMapEvent table, bool[] partialColumns, ColumnValue[] before, ColumnValue[] after)
    {
        for (var i = 0; i < partialColumns.Length; i++)
        {
            if (!partialColumns[i] || after[i].Kind != ValueKind.Json) continue;
            var column = table.Columns[i];
            var name = $"{table.FullName}.{column.Name ?? "@" + (i + 1)}";
            if (before[i].Kind != ValueKind.Json)
                throw new BinlogFormatException(before[i].IsMissing
                    ? $"JSON column {name} is a partial update but the before image does not hold the column (binlog_row_image=MINIMAL), so its new value cannot be known; set binlog_row_image=FULL or binlog_row_value_options='' on the server"
                    : $"JSON column {name} is a partial update of a NULL value, which MySQL never logs: the event is corrupt");
            try
            {
                var diffs = MySqlJsonDiff.Decode(after[i].RawBytes);
                after[i] = ColumnValue.FromMySqlJsonText(MySqlJsonDiffApplier.Apply(before[i].JsonText(), diffs));
            }
            catch (Exception e) when (e is MySqlJsonFormatException or BinlogFormatException)
            {
                throw new BinlogFormatException($"JSON column {name}: {e.Message}", e);
            }
        }
    }
}
