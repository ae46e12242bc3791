using System.Buffers;
using System.Text.Json;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Values;

namespace PluginHost.Cli;

/// <summary>Writes the rows of decoded binlog events as JSON lines, tracking the GTID of the current transaction.</summary>
internal sealed class RowJsonWriter
{
    private static readonly System.Text.Encodings.Web.JavaScriptEncoder Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
    private static readonly JsonEncodedText Op = JsonEncodedText.Encode("op"), Database = JsonEncodedText.Encode("database"),
        TableName = JsonEncodedText.Encode("table"), Before = JsonEncodedText.Encode("before"), After = JsonEncodedText.Encode("after"),
        Gtid = JsonEncodedText.Encode("gtid"), File = JsonEncodedText.Encode("file"), Pos = JsonEncodedText.Encode("pos"), Ts = JsonEncodedText.Encode("ts"),
        Insert = JsonEncodedText.Encode("insert"), Update = JsonEncodedText.Encode("update"), Delete = JsonEncodedText.Encode("delete");

    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter writer;
    private readonly Stream output;
    private readonly Dictionary<ulong, EncodedTable> _tables = [];
    private JsonEncodedText? _gtid;
    private JsonEncodedText _file;
    private uint _tsSeconds = uint.MaxValue;
    private JsonEncodedText _ts;

    public RowJsonWriter(Stream output, string fileName)
    {
        this.output = output;
        _file = JsonEncodedText.Encode(fileName, Encoder);
        writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions
        {
            SkipValidation = true,
            Encoder = Encoder,
        });
    }

    /// <summary>A table's names JSON-encoded once (a table map is repeated before every rows event; its names rarely change).</summary>
    private sealed class EncodedTable(TableMapEvent map)
    {
        public TableMapEvent Map { get; set; } = map;
        public JsonEncodedText Database { get; } = JsonEncodedText.Encode(map.Database, Encoder);
        public JsonEncodedText Table { get; } = JsonEncodedText.Encode(map.Table, Encoder);
        public JsonEncodedText[] Columns { get; } = [.. map.Columns.Select((c, i) => JsonEncodedText.Encode(c.Name ?? "@" + (i + 1), Encoder))];

        public bool Describes(TableMapEvent other)
        {
            if (ReferenceEquals(other, Map)) return true;
            if (other.Database != Map.Database || other.Table != Map.Table || other.Columns.Count != Map.Columns.Count) return false;
            for (var i = 0; i < other.Columns.Count; i++)
                if (other.Columns[i].Name != Map.Columns[i].Name) return false;
            Map = other;
            return true;
        }
    }

    private EncodedTable Encoded(TableMapEvent map)
    {
        if (_tables.TryGetValue(map.TableId, out var t) && t.Describes(map)) return t;
        return _tables[map.TableId] = new EncodedTable(map);
    }

    /// <summary>Writes what is buffered to the output stream.</summary>
    public void Flush()
    {
        writer.Flush();
        output.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
        writer.Reset(_buffer);
    }

    public void Handle(BinlogEvent e)
    {
        switch (e)
        {
            case MariaDbGtidEvent g: _gtid = JsonEncodedText.Encode(g.Gtid, Encoder); break;
            case MySqlGtidEvent g: _gtid = g.Gtid is { } text ? JsonEncodedText.Encode(text, Encoder) : null; break;
            case RotateEvent r when !r.IsArtificial: _file = JsonEncodedText.Encode(r.NextFile, Encoder); break;
            case TransactionPayloadEvent p:
                foreach (var inner in p.Events)
                    if (inner is RowsEvent ir) WriteRows(ir, e.Header);
                break;
            case RowsEvent rows: WriteRows(rows, rows.Header); break;
        }
    }

    private void WriteRows(RowsEvent rows, BinlogEventHeader position)
    {
        var op = rows.Kind switch { RowChangeKind.Insert => Insert, RowChangeKind.Update => Update, _ => Delete };
        if (rows.Header.Timestamp != _tsSeconds)
        {
            _tsSeconds = rows.Header.Timestamp;
            _ts = JsonEncodedText.Encode(DateTime.UnixEpoch.AddSeconds(rows.Header.Timestamp).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"), Encoder);
        }
        var table = Encoded(rows.Table);
        foreach (var row in rows.Rows)
        {
            writer.WriteStartObject();
            writer.WriteString(Op, op);
            writer.WriteString(Database, table.Database);
            writer.WriteString(TableName, table.Table);
            WriteImage(Before, row.Before, table.Columns);
            WriteImage(After, row.After, table.Columns);
            if (_gtid is { } gtid) writer.WriteString(Gtid, gtid); else writer.WriteNull(Gtid);
            writer.WriteString(File, _file);
            writer.WriteNumber(Pos, position.Position);
            writer.WriteString(Ts, _ts);
            writer.WriteEndObject();
            writer.Flush();
            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
            writer.Reset(_buffer);
            if (_buffer.WrittenCount > 1 << 16) Flush();
        }
    }

    private void WriteImage(JsonEncodedText name, ColumnValue[]? image, JsonEncodedText[] columns)
    {
        if (image is null)
        {
            writer.WriteNull(name);
            return;
        }
        writer.WriteStartObject(name);
        for (var i = 0; i < image.Length; i++)
        {
            if (image[i].IsMissing) continue;
            writer.WritePropertyName(columns[i]);
            ColumnValueJson.Write(writer, image[i]);
        }
        writer.WriteEndObject();
    }
}
