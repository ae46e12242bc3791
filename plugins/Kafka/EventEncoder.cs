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
    // Header names (NUL-terminated) and fixed values, on the pinned heap: librdkafka reads them by address.
    private static readonly byte[] OpName = PinnedZ("op"), PipelineName = PinnedZ("pipeline"), GtidName = PinnedZ("gtid"), PositionName = PinnedZ("position");
    private static readonly byte[] OpInsert = Pinned("insert"u8), OpUpdate = Pinned("update"u8), OpDelete = Pinned("delete"u8), OpRead = Pinned("read"u8);
    private static readonly string Version = "pluginhost-" + (typeof(EventEncoder).Assembly.GetName().Version?.ToString(3) ?? "0");

    /// <summary>The headers the encoder can add.</summary>
    public static readonly string[] KnownHeaders = ["op", "pipeline", "gtid", "position"];

    private readonly KafkaFormat _format;
    private readonly bool _op, _pipelineHeader, _gtid, _position;
    private readonly string _pipeline;
    private readonly byte[] _pipelineBytes;
    private readonly ArrayBufferWriter<byte> _buffer = new(2048);
    private readonly Utf8JsonWriter _writer;
    private readonly ArrayBufferWriter<byte> _keyBuffer = new(256);
    private readonly Utf8JsonWriter _keyWriter;
    private string? _lastGtid;
    private string? _lastFile;
    private byte[] _lastFilePrefix = [];
    private byte[] _positionBytes = GC.AllocateArray<byte>(64, pinned: true);
    private byte[] _gtidBytes = GC.AllocateArray<byte>(64, pinned: true);
    private int _gtidLength;
    private readonly byte[] _pipelineValue;
    private readonly PrensioMessage? _prensio;

    public EventEncoder(KafkaFormat format, string pipeline, IReadOnlyCollection<string> headers, TopicNames? topics = null)
    {
        _format = format;
        if (format == KafkaFormat.Prensio) _prensio = new PrensioMessage(pipeline, topics ?? new TopicNames("{database}.{table}", pipeline));
        _op = headers.Contains("op");
        _pipelineHeader = headers.Contains("pipeline");
        _gtid = headers.Contains("gtid");
        _position = headers.Contains("position");
        _pipeline = pipeline;
        _pipelineBytes = Encoding.UTF8.GetBytes(pipeline);
        _writer = new Utf8JsonWriter(_buffer, ChangeEventJson.WriterOptions);
        _keyWriter = new Utf8JsonWriter(_keyBuffer, ChangeEventJson.WriterOptions);
        _pipelineValue = Pinned(_pipelineBytes);
    }

    /// <summary>The primary key of the row the event changes (from <paramref name="row"/>), as JSON; null when the table has no known key.</summary>
    public byte[]? Key(ChangeEvent e, Row? row = null) => TryKey(e, row, out var key) ? key.ToArray() : null;

    /// <summary>
    /// The key as JSON in the encoder's own buffer (valid until the next key); false when the table has no known key.
    /// </summary>
    public bool TryKey(ChangeEvent e, Row? row, out ReadOnlySpan<byte> key)
    {
        row ??= e.Current;
        key = default;
        if (_prensio != null)
        {
            key = _prensio.Key(e);
            return true;
        }
        if (e.Schema is not { PrimaryKey.Count: > 0 } schema || row is null) return false;
        _keyBuffer.ResetWrittenCount();
        _keyWriter.Reset(_keyBuffer);
        _keyWriter.WriteStartObject();
        foreach (var name in schema.PrimaryKey)
        {
            schema.TryFind(name, out var column, out var jsonName);
            _keyWriter.WritePropertyName(jsonName);
            ChangeEventJson.WriteValue(_keyWriter, row[name], column);
        }
        _keyWriter.WriteEndObject();
        _keyWriter.Flush();
        key = _keyBuffer.WrittenSpan;
        return true;
    }

    /// <summary>The message value of an event in the sink's format.</summary>
    public byte[] Value(ChangeEvent e) => Value(e, e.Op, e.Before, e.After);

    /// <summary>The value with an explicit operation and row images (Debezium splits key-changing updates into a delete and a create).</summary>
    public byte[] Value(ChangeEvent e, ChangeOperation op, Row? before, Row? after) => ValueSpan(e, op, before, after).ToArray();

    /// <summary>The value in the encoder's own buffer (valid until the next value).</summary>
    public ReadOnlySpan<byte> ValueSpan(ChangeEvent e) => ValueSpan(e, e.Op, e.Before, e.After);

    /// <summary>The value with an explicit operation and row images, in the encoder's own buffer.</summary>
    public ReadOnlySpan<byte> ValueSpan(ChangeEvent e, ChangeOperation op, Row? before, Row? after)
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
        else if (_prensio != null) _prensio.WriteValue(_writer, e);
        else WriteDebezium(e, op, before, after);
        _writer.Flush();
        return _buffer.WrittenSpan;
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
        w.WriteString("snapshot"u8, e.Op == ChangeOperation.Read ? "true"u8 : "false"u8);
        w.WriteString("db"u8, e.Database);
        w.WriteString("table"u8, e.Table);
        if (e.Gtid is null) w.WriteNull("gtid"u8); else w.WriteString("gtid"u8, e.Gtid);
        if (e.File is null) w.WriteNull("file"u8); else w.WriteString("file"u8, e.File);
        w.WriteNumber("pos"u8, e.Position);
        w.WriteNumber("row"u8, e.IndexInTransaction);
        w.WriteNull("thread"u8);
        w.WriteNull("query"u8);
        w.WriteEndObject();
        w.WriteString("op"u8, op switch { ChangeOperation.Insert => "c"u8, ChangeOperation.Update => "u"u8, ChangeOperation.Read => "r"u8, _ => "d"u8 });
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

    /// <summary>
    /// Writes the chosen headers of <c>op</c>, <c>pipeline</c>, <c>gtid</c> (when the server uses GTIDs) and
    /// <c>position</c> (<c>file:pos</c>) into <paramref name="into"/> (room for 4) and returns how many. Their bytes
    /// live in pinned arrays that stay valid until the next event is encoded.
    /// </summary>
    public int Headers(ChangeEvent e, ChangeOperation op, Span<MessageHeader> into)
    {
        var n = 0;
        if (_op)
        {
            var value = op switch { ChangeOperation.Insert => OpInsert, ChangeOperation.Update => OpUpdate, ChangeOperation.Read => OpRead, _ => OpDelete };
            into[n++] = new MessageHeader(Address(OpName), Address(value), value.Length);
        }
        if (_pipelineHeader) into[n++] = new MessageHeader(Address(PipelineName), Address(_pipelineValue), _pipelineValue.Length);
        if (_gtid && e.Gtid is { } gtid)
        {
            if (!ReferenceEquals(gtid, _lastGtid))
            {
                // One pinned buffer, reused: a new GTID per transaction must not mean a new pinned array each time.
                _lastGtid = gtid;
                var length = Encoding.UTF8.GetByteCount(gtid);
                if (_gtidBytes.Length < length) _gtidBytes = GC.AllocateArray<byte>(Math.Max(length, _gtidBytes.Length * 2), pinned: true);
                _gtidLength = Encoding.UTF8.GetBytes(gtid, _gtidBytes);
            }
            into[n++] = new MessageHeader(Address(GtidName), Address(_gtidBytes), _gtidLength);
        }
        if (_position && e.File is { } file)
        {
            var length = Position(file, e.Position);
            into[n++] = new MessageHeader(Address(PositionName), Address(_positionBytes), length);
        }
        return n;
    }

    /// <summary>The chosen headers as name → value (for tests and logs).</summary>
    public Dictionary<string, string> HeaderValues(ChangeEvent e, ChangeOperation op)
    {
        Span<MessageHeader> headers = stackalloc MessageHeader[4];
        var n = Headers(e, op, headers);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        unsafe
        {
            foreach (var h in headers[..n])
                result[System.Runtime.InteropServices.Marshal.PtrToStringUTF8(h.NameZ)!] = Encoding.UTF8.GetString((byte*)h.Value, h.Length);
        }
        return result;
    }

    /// <summary><c>file:pos</c> as UTF-8 into the pinned position buffer, without an intermediate string; returns its length.</summary>
    private int Position(string file, long position)
    {
        if (!ReferenceEquals(file, _lastFile))
        {
            _lastFile = file;
            _lastFilePrefix = Encoding.UTF8.GetBytes(file + ":");
            if (_positionBytes.Length < _lastFilePrefix.Length + 20) _positionBytes = GC.AllocateArray<byte>(_lastFilePrefix.Length + 20, pinned: true);
            _lastFilePrefix.CopyTo(_positionBytes, 0);
        }
        System.Buffers.Text.Utf8Formatter.TryFormat(position, _positionBytes.AsSpan(_lastFilePrefix.Length), out var n);
        return _lastFilePrefix.Length + n;
    }

    private static byte[] Pinned(ReadOnlySpan<byte> bytes)
    {
        var array = GC.AllocateArray<byte>(bytes.Length, pinned: true);
        bytes.CopyTo(array);
        return array;
    }

    private static byte[] PinnedZ(string s) => Pinned(Encoding.UTF8.GetBytes(s + "\0"));

    private static unsafe IntPtr Address(byte[] pinned) =>
        (IntPtr)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(pinned));

    /// <summary>True when an update changes the row's primary key (Debezium then sends a delete and a create).</summary>
    public static bool ChangesKey(ChangeEvent e) => e.ChangesPrimaryKey();

    private void Begin()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
    }
}
