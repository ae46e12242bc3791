using System.Buffers;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using PluginHost.Sdk;

namespace PluginHost.Plugins.Kafka;

/// <summary>
/// Turns events into Kafka keys, values and headers. Key: the primary key as a JSON object (<c>{"id":42}</c>), null
/// for tables without a known key. Value: the event JSON, or Debezium's envelope. Not thread-safe (one per sink).
/// </summary>
internal sealed class EventEncoder
{
    private static readonly byte[] OpInsert = "insert"u8.ToArray();
    private static readonly byte[] OpUpdate = "update"u8.ToArray();
    private static readonly byte[] OpDelete = "delete"u8.ToArray();
    private static readonly string Version = "pluginhost-" + (typeof(EventEncoder).Assembly.GetName().Version?.ToString(3) ?? "0");

    /// <summary>The headers the encoder can add.</summary>
    public static readonly string[] KnownHeaders = ["op", "pipeline", "gtid", "position"];

    private readonly KafkaFormat _format;
    private readonly bool _op, _pipelineHeader, _gtid, _position;
    private readonly string _pipeline;
    private readonly byte[] _pipelineBytes;
    private readonly ArrayBufferWriter<byte> _buffer = new(2048);
    private readonly Utf8JsonWriter _writer;
    private string? _lastGtid;
    private byte[]? _lastGtidBytes;
    private string? _lastFile;
    private byte[] _lastFilePrefix = [];

    public EventEncoder(KafkaFormat format, string pipeline, IReadOnlyCollection<string> headers)
    {
        _format = format;
        _op = headers.Contains("op");
        _pipelineHeader = headers.Contains("pipeline");
        _gtid = headers.Contains("gtid");
        _position = headers.Contains("position");
        _pipeline = pipeline;
        _pipelineBytes = Encoding.UTF8.GetBytes(pipeline);
        _writer = new Utf8JsonWriter(_buffer, ChangeEventJson.WriterOptions);
    }

    /// <summary>The primary key of the row the event changes (from <paramref name="row"/>), as JSON; null when the table has no known key.</summary>
    public byte[]? Key(ChangeEvent e, Row? row = null)
    {
        row ??= e.Current;
        if (e.Schema is not { PrimaryKey.Count: > 0 } schema || row is null) return null;
        Begin();
        _writer.WriteStartObject();
        foreach (var name in schema.PrimaryKey)
        {
            _writer.WritePropertyName(name);
            ChangeEventJson.WriteValue(_writer, row[name], schema.Find(name));
        }
        _writer.WriteEndObject();
        return End();
    }

    /// <summary>The message value of an event in the sink's format.</summary>
    public byte[] Value(ChangeEvent e) => Value(e, e.Op, e.Before, e.After);

    /// <summary>The value with an explicit operation and row images (Debezium splits key-changing updates into a delete and a create).</summary>
    public byte[] Value(ChangeEvent e, ChangeOperation op, Row? before, Row? after)
    {
        Begin();
        if (_format == KafkaFormat.Json)
        {
            if (op == e.Op && ReferenceEquals(before, e.Before) && ReferenceEquals(after, e.After))
                ChangeEventJson.Write(_writer, e);
            else
            {
                var copy = e.Clone();
                copy.Op = op;
                copy.Before = before;
                copy.After = after;
                ChangeEventJson.Write(_writer, copy);
            }
        }
        else WriteDebezium(e, op, before, after);
        return End();
    }

    private void WriteDebezium(ChangeEvent e, ChangeOperation op, Row? before, Row? after)
    {
        var w = _writer;
        w.WriteStartObject();
        w.WritePropertyName("before"u8);
        ChangeEventJson.WriteRow(w, before, e.Schema);
        w.WritePropertyName("after"u8);
        ChangeEventJson.WriteRow(w, after, e.Schema);
        w.WriteStartObject("source"u8);
        w.WriteString("version"u8, Version);
        w.WriteString("connector"u8, "mysql"u8);
        w.WriteString("name"u8, _pipeline);
        w.WriteNumber("ts_ms"u8, e.Timestamp.ToUnixTimeMilliseconds());
        w.WriteString("snapshot"u8, "false"u8);
        w.WriteString("db"u8, e.Database);
        w.WriteString("table"u8, e.Table);
        if (e.Gtid is null) w.WriteNull("gtid"u8); else w.WriteString("gtid"u8, e.Gtid);
        if (e.File is null) w.WriteNull("file"u8); else w.WriteString("file"u8, e.File);
        w.WriteNumber("pos"u8, e.Position);
        w.WriteNumber("row"u8, e.IndexInTransaction);
        w.WriteNull("thread"u8);
        w.WriteNull("query"u8);
        w.WriteEndObject();
        w.WriteString("op"u8, op switch { ChangeOperation.Insert => "c"u8, ChangeOperation.Update => "u"u8, _ => "d"u8 });
        w.WriteNumber("ts_ms"u8, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        if (e.TransactionId is null) w.WriteNull("transaction"u8);
        else
        {
            w.WriteStartObject("transaction"u8);
            w.WriteString("id"u8, e.TransactionId);
            w.WriteNumber("data_collection_order"u8, e.IndexInTransaction + 1);
            w.WriteEndObject();
        }
        if (e.HasExtra)
            foreach (var kv in e.Extra)
            {
                w.WritePropertyName(kv.Key);
                ChangeEventJson.WriteValue(w, kv.Value, null);
            }
        w.WriteEndObject();
    }

    /// <summary>The chosen headers of <c>op</c>, <c>pipeline</c>, <c>gtid</c> (when the server uses GTIDs) and <c>position</c> (<c>file:pos</c>); null for none.</summary>
    public Headers? Headers(ChangeEvent e, ChangeOperation op)
    {
        Headers? h = null;
        if (_op) (h ??= new Headers()).Add("op", op switch { ChangeOperation.Insert => OpInsert, ChangeOperation.Update => OpUpdate, _ => OpDelete });
        if (_pipelineHeader) (h ??= new Headers()).Add("pipeline", _pipelineBytes);
        if (_gtid && e.Gtid is { } gtid)
        {
            if (!ReferenceEquals(gtid, _lastGtid))
            {
                _lastGtid = gtid;
                _lastGtidBytes = Encoding.UTF8.GetBytes(gtid);
            }
            (h ??= new Headers()).Add("gtid", _lastGtidBytes);
        }
        if (_position && e.File is { } file) (h ??= new Headers()).Add("position", Position(file, e.Position));
        return h;
    }

    /// <summary><c>file:pos</c> as UTF-8, without an intermediate string.</summary>
    private byte[] Position(string file, long position)
    {
        if (!ReferenceEquals(file, _lastFile))
        {
            _lastFile = file;
            _lastFilePrefix = Encoding.UTF8.GetBytes(file + ":");
        }
        Span<byte> digits = stackalloc byte[20];
        System.Buffers.Text.Utf8Formatter.TryFormat(position, digits, out var n);
        var bytes = new byte[_lastFilePrefix.Length + n];
        _lastFilePrefix.CopyTo(bytes, 0);
        digits[..n].CopyTo(bytes.AsSpan(_lastFilePrefix.Length));
        return bytes;
    }

    /// <summary>True when an update changes the row's primary key (Debezium then sends a delete and a create).</summary>
    public static bool ChangesKey(ChangeEvent e)
    {
        if (e.Op != ChangeOperation.Update || e.Before is not { } before || e.After is not { } after || e.Schema is not { PrimaryKey.Count: > 0 } s)
            return false;
        foreach (var name in s.PrimaryKey)
        {
            var a = before[name];
            var b = after[name];
            if (a is byte[] x && b is byte[] y ? !x.AsSpan().SequenceEqual(y) : !Equals(a, b)) return true;
        }
        return false;
    }

    private void Begin()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
    }

    private byte[] End()
    {
        _writer.Flush();
        return _buffer.WrittenSpan.ToArray();
    }
}
