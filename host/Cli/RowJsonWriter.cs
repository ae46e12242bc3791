using System.Buffers;
using System.Text.Json;
using PluginHost.Binlog;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Values;

namespace PluginHost.Cli;

/// <summary>Writes the rows of decoded binlog events as JSON lines, tracking the GTID of the current transaction.</summary>
internal sealed class RowJsonWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 16);
    private readonly Utf8JsonWriter writer;
    private readonly Stream output;
    private string? _gtid;
    private string _file;

    public RowJsonWriter(Stream output, string fileName)
    {
        this.output = output;
        _file = fileName;
        writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions
        {
            SkipValidation = true,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
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
            case MariaDbGtidEvent g: _gtid = g.Gtid; break;
            case MySqlGtidEvent g: _gtid = g.Gtid; break;
            case RotateEvent r when !r.IsArtificial: _file = r.NextFile; break;
            case TransactionPayloadEvent p:
                foreach (var inner in p.Events)
                    if (inner is RowsEvent ir) WriteRows(ir, e.Header);
                break;
            case RowsEvent rows: WriteRows(rows, rows.Header); break;
        }
    }

    private void WriteRows(RowsEvent rows, BinlogEventHeader position)
    {
        var op = rows.Kind switch { RowChangeKind.Insert => "insert", RowChangeKind.Update => "update", _ => "delete" };
        var ts = DateTime.UnixEpoch.AddSeconds(rows.Header.Timestamp).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        foreach (var row in rows.Rows)
        {
            writer.WriteStartObject();
            writer.WriteString("op", op);
            writer.WriteString("database", rows.Table.Database);
            writer.WriteString("table", rows.Table.Table);
            WriteImage("before", row.Before, rows.Table);
            WriteImage("after", row.After, rows.Table);
            if (_gtid is null) writer.WriteNull("gtid"); else writer.WriteString("gtid", _gtid);
            writer.WriteString("file", _file);
            writer.WriteNumber("pos", position.Position);
            writer.WriteString("ts", ts);
            writer.WriteEndObject();
            writer.Flush();
            _buffer.GetSpan(1)[0] = (byte)'\n';
            _buffer.Advance(1);
            writer.Reset(_buffer);
            if (_buffer.WrittenCount > 1 << 16) Flush();
        }
    }

    private void WriteImage(string name, ColumnValue[]? image, TableMapEvent table)
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
            writer.WritePropertyName(table.Columns[i].Name ?? "@" + (i + 1));
            ColumnValueJson.Write(writer, image[i]);
        }
        writer.WriteEndObject();
    }
}
