using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Values;
using PluginHost.Sdk;

namespace PluginHost.Schema;

/// <summary>
/// Turns decoded binlog rows into sdk <see cref="ChangeEvent"/>s with typed values, reusing one
/// <see cref="TableInfo"/> per table layout. Not thread-safe: one per pipeline reader.
/// </summary>
internal sealed class ChangeEventFactory
{
    private readonly Dictionary<string, (TableMapEvent Map, TableInfo Info)> _tables = new(StringComparer.Ordinal);

    /// <summary>Forget cached table layouts (after DDL).</summary>
    public void Invalidate() => _tables.Clear();

    /// <summary>The sdk table description of a table map (cached while the layout is unchanged).</summary>
    public TableInfo TableInfoOf(TableMapEvent map)
    {
        var key = map.FullName;
        if (_tables.TryGetValue(key, out var hit) && (ReferenceEquals(hit.Map, map) || SameLayout(hit.Map, map)))
        {
            if (!ReferenceEquals(hit.Map, map)) _tables[key] = (map, hit.Info);
            return hit.Info;
        }
        var columns = new ColumnInfo[map.Columns.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            var c = map.Columns[i];
            columns[i] = new ColumnInfo(c.Name ?? "@" + (i + 1), KindOf(c), c.IsPrimaryKey, FractionDigits(c));
        }
        var info = new TableInfo(map.Database, map.Table, columns);
        _tables[key] = (map, info);
        return info;
    }

    private static bool SameLayout(TableMapEvent a, TableMapEvent b)
    {
        if (a.Columns.Count != b.Columns.Count) return false;
        for (var i = 0; i < a.Columns.Count; i++)
        {
            TableColumn x = a.Columns[i], y = b.Columns[i];
            if (x.Type != y.Type || x.Metadata != y.Metadata || x.Name != y.Name || x.IsUnsigned != y.IsUnsigned ||
                x.Collation != y.Collation || x.IsPrimaryKey != y.IsPrimaryKey || x.IsJson != y.IsJson || !ReferenceEquals(x.Labels, y.Labels) && !(x.Labels ?? []).SequenceEqual(y.Labels ?? []))
                return false;
        }
        return true;
    }

    /// <summary>Builds the event for one changed row.</summary>
    public ChangeEvent Create(RowsEvent rows, in RowChange row, TableInfo info)
    {
        return new ChangeEvent
        {
            Op = rows.Kind switch { RowChangeKind.Insert => ChangeOperation.Insert, RowChangeKind.Update => ChangeOperation.Update, _ => ChangeOperation.Delete },
            Database = rows.Table.Database,
            Table = rows.Table.Table,
            Before = row.Before is null ? null : ToRow(row.Before, info),
            After = row.After is null ? null : ToRow(row.After, info),
            Schema = info,
            Timestamp = DateTimeOffset.FromUnixTimeSeconds(rows.Header.Timestamp),
            Position = rows.Header.Position,
        };
    }

    private static Row ToRow(ColumnValue[] image, TableInfo info)
    {
        if (info.RowLayout is { } layout && layout.Count == image.Length && !HasMissing(image))
        {
            // A full image: the table's shared column names, only the values are this row's.
            var values = new object?[image.Length + 1]; // room for one column a transform adds
            for (var i = 0; i < image.Length; i++) values[i] = ToObject(image[i]);
            return new Row(layout, values);
        }
        var row = new Row(image.Length);
        for (var i = 0; i < image.Length; i++)
        {
            ref readonly var v = ref image[i];
            if (v.IsMissing) continue;
            row.Add(info.Columns[i].Name, ToObject(v));
        }
        return row;
    }

    private static bool HasMissing(ColumnValue[] image)
    {
        foreach (ref readonly var v in image.AsSpan())
            if (v.IsMissing) return true;
        return false;
    }

    /// <summary>The sdk value of a column value (see <see cref="ColumnKind"/> for the .NET types).</summary>
    public static object? ToObject(in ColumnValue v)
    {
        switch (v.Kind)
        {
            case ValueKind.Missing:
            case ValueKind.Null:
                return null;
            case ValueKind.Int:
            case ValueKind.Year:
                return v.Int64;
            case ValueKind.UInt:
            case ValueKind.Bit:
                return v.UInt64;
            case ValueKind.Float:
                return v.Float;
            case ValueKind.Double:
                return v.Double;
            case ValueKind.Decimal:
            {
                var digits = v.DecimalString();
                return v.Aux <= 28 && decimal.TryParse(digits, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d : digits;
            }
            case ValueKind.String:
                return v.AsString();
            case ValueKind.Bytes:
            case ValueKind.Geometry:
                return v.AsBytes();
            case ValueKind.Json when v.IsJsonText:
                return MariaDbJson(v);
            case ValueKind.Json:
            {
                var text = v.JsonText();
                return text.Length == 0 ? null : JsonNode.Parse(text);
            }
            case ValueKind.Date:
            {
                var p = v.DateTimeParts;
                return p.Year >= 1 && p.Month is >= 1 and <= 12 && p.Day >= 1 && p.Day <= DateTime.DaysInMonth(p.Year, p.Month)
                    ? new DateOnly(p.Year, p.Month, p.Day)
                    : p.ToDateString();
            }
            case ValueKind.DateTime:
                return v.DateTimeParts.TryToDateTime(out var dt) ? dt : v.ToString();
            case ValueKind.Timestamp:
                return v.TimestampSeconds == 0 && v.TimestampMicroseconds == 0
                    ? v.TimestampString()
                    : new DateTimeOffset(DateTime.UnixEpoch.AddTicks(v.TimestampSeconds * TimeSpan.TicksPerSecond + v.TimestampMicroseconds * 10L), TimeSpan.Zero);
            case ValueKind.Time:
            {
                var p = v.DateTimeParts;
                var t = new TimeSpan(0, p.Hour, p.Minute, p.Second).Add(TimeSpan.FromTicks(p.Microsecond * 10L));
                return p.IsNegative ? -t : t;
            }
            case ValueKind.Enum:
                return (object?)v.EnumLabel ?? v.Int64;
            case ValueKind.Set:
                return (object?)v.SetLabels ?? v.UInt64;
            default:
                return v.ToString();
        }
    }

    /// <summary>MariaDB text JSON as a JsonNode, like MySQL's (null for JSON null); text that is not one valid JSON
    /// value stays a string, as the event JSON writer does.</summary>
    private static object? MariaDbJson(in ColumnValue v)
    {
        var text = v.JsonText();
        try
        {
            return JsonNode.Parse(text, documentOptions: ColumnValueJson.TextJsonOptions);
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private static ColumnKind KindOf(TableColumn c) => c.IsJson ? ColumnKind.Json : c.Type switch
    {
        ColumnType.Tiny or ColumnType.Short or ColumnType.Int24 or ColumnType.Long or ColumnType.LongLong => ColumnKind.Integer,
        ColumnType.NewDecimal or ColumnType.Decimal => ColumnKind.Decimal,
        ColumnType.Float => ColumnKind.Float,
        ColumnType.Double => ColumnKind.Double,
        ColumnType.VarChar or ColumnType.VarString or ColumnType.String => c.Collation == Charsets.Binary ? ColumnKind.Binary : ColumnKind.Text,
        ColumnType.Blob or ColumnType.TinyBlob or ColumnType.MediumBlob or ColumnType.LongBlob =>
            c.Collation != 0 && c.Collation != Charsets.Binary ? ColumnKind.Text : ColumnKind.Binary,
        ColumnType.Date or ColumnType.NewDate => ColumnKind.Date,
        ColumnType.DateTime or ColumnType.DateTime2 => ColumnKind.DateTime,
        ColumnType.Timestamp or ColumnType.Timestamp2 => ColumnKind.Timestamp,
        ColumnType.Time or ColumnType.Time2 => ColumnKind.Time,
        ColumnType.Year => ColumnKind.Year,
        ColumnType.Bit => ColumnKind.Bit,
        ColumnType.Enum => ColumnKind.Enum,
        ColumnType.Set => ColumnKind.Set,
        ColumnType.Json => ColumnKind.Json,
        ColumnType.Geometry => ColumnKind.Geometry,
        _ => ColumnKind.Unknown,
    };

    private static int FractionDigits(TableColumn c) => c.Type switch
    {
        ColumnType.DateTime2 or ColumnType.Timestamp2 or ColumnType.Time2 => c.Metadata,
        ColumnType.DateTime or ColumnType.Timestamp or ColumnType.Time => c.Metadata,
        _ => 0,
    };
}
