using System.Buffers.Binary;
using System.IO.Hashing;
using PluginHost.Binlog.Events;
using PluginHost.Binlog.Gtid;
using PluginHost.Binlog.Native;
using PluginHost.Binlog.Values;

namespace PluginHost.Binlog.Decoding;

/// <summary>
/// Turns raw binlog events (header included, as read from a file or the replication stream) into typed events.
/// Stateful: it remembers the format description and the table maps, so feed it every event of a stream in order.
/// Not thread-safe; one decoder per stream.
/// </summary>
public sealed partial class BinlogEventDecoder
{
    private readonly Dictionary<ulong, TableMapEvent> _tables = new();
    private readonly Crc32 _crc = new();
    private FormatDescriptionEvent? _format;

    /// <param name="checksum">Checksum of events before the first FORMAT_DESCRIPTION (what the replication stream negotiated).</param>
    /// <param name="verifyChecksums">Verify CRC32 checksums and fail on a mismatch.</param>
    public BinlogEventDecoder(ChecksumAlgorithm checksum = ChecksumAlgorithm.Off, bool verifyChecksums = true)
    {
        Checksum = checksum;
        VerifyChecksums = verifyChecksums;
    }

    /// <summary>Checksum algorithm of the events being decoded (updated by every FORMAT_DESCRIPTION).</summary>
    public ChecksumAlgorithm Checksum { get; set; }

    public bool VerifyChecksums { get; }

    /// <summary>The last FORMAT_DESCRIPTION seen.</summary>
    public FormatDescriptionEvent? FormatDescription => _format;

    /// <summary>Called, before any row of it is decoded, for a table map that needs the schema to decode right
    /// (<see cref="TableMapEvent.NeedsSchema"/>: no column metadata, or MariaDB temporal columns of unknown precision),
    /// e.g. to apply information_schema with <see cref="TableMapEvent.ApplySchema"/>.</summary>
    public Action<TableMapEvent>? OnTableMapWithoutMetadata { get; set; }

    /// <summary>The table map last seen for a table id.</summary>
    public TableMapEvent? GetTable(ulong tableId) => _tables.GetValueOrDefault(tableId);

    /// <summary>Decodes one whole event (19-byte header, body, and checksum when enabled).</summary>
    public BinlogEvent Decode(ReadOnlySpan<byte> data)
    {
        var header = BinlogEventHeader.Read(data);
        if (header.EventLength != data.Length)
            throw new BinlogFormatException($"{header.EventType} event at {header.Position}: header says {header.EventLength} bytes, got {data.Length}");
        try
        {
            return DecodeChecked(header, data);
        }
        catch (Exception e) when (Describe(header, e) is { } described)
        {
            throw described;
        }
    }

    /// <summary>A decoding fault as the error names it (event type and position), or null for an exception that is not
    /// one (it propagates as it is).</summary>
    private static BinlogFormatException? Describe(BinlogEventHeader header, Exception e) => e switch
    {
        BinlogFormatException when !e.Message.StartsWith(header.EventType.ToString(), StringComparison.Ordinal) =>
            new BinlogFormatException($"{header.EventType} event at position {header.Position}: {e.Message}", e),
        ArgumentException or IndexOutOfRangeException or OverflowException or FormatException or System.Text.DecoderFallbackException
            or InvalidCastException or NotSupportedException or InvalidDataException =>
            new BinlogFormatException($"{header.EventType} event at position {header.Position} is malformed: {e.Message}", e),
        _ => null,
    };

    private BinlogEvent DecodeChecked(BinlogEventHeader header, ReadOnlySpan<byte> data)
    {
        if (header.EventType == BinlogEventType.FormatDescription)
            return DecodeFormatDescription(header, data);

        var bodyEnd = data.Length;
        if (Checksum == ChecksumAlgorithm.Crc32)
        {
            if (data.Length < BinlogEventHeader.Size + 4) throw new BinlogFormatException("event too short for its checksum");
            bodyEnd -= 4;
            if (VerifyChecksums) Verify(header, data);
        }
        var body = data[BinlogEventHeader.Size..bodyEnd];
        var f = _format;
        switch (header.EventType)
        {
            case BinlogEventType.TableMap:
            {
                var map = TableMapDecoder.Decode(header, body, PostHeader(BinlogEventType.TableMap, 8), _format?.IsMariaDb == true);
                _tables[map.TableId] = map;
                if (map.NeedsSchema) OnTableMapWithoutMetadata?.Invoke(map);
                return map;
            }
            case BinlogEventType.WriteRowsV1:
            case BinlogEventType.WriteRowsV2:
            case BinlogEventType.WriteRowsV0:
                return DecodeRows(header, body, RowChangeKind.Insert);
            case BinlogEventType.UpdateRowsV1:
            case BinlogEventType.UpdateRowsV2:
            case BinlogEventType.UpdateRowsV0:
            case BinlogEventType.PartialUpdateRows:
                return DecodeRows(header, body, RowChangeKind.Update);
            case BinlogEventType.DeleteRowsV1:
            case BinlogEventType.DeleteRowsV2:
            case BinlogEventType.DeleteRowsV0:
                return DecodeRows(header, body, RowChangeKind.Delete);
            case BinlogEventType.Query:
                return DecodeQuery(header, body);
            case BinlogEventType.Xid:
                return new XidEvent(header, new PacketReader(body).ReadUInt64());
            case BinlogEventType.Rotate:
            {
                var r = new PacketReader(body);
                var position = PostHeader(BinlogEventType.Rotate, 8) >= 8 ? r.ReadUInt64() : 4;
                return new RotateEvent(header, position, r.ReadRestString());
            }
            case BinlogEventType.Gtid:
            case BinlogEventType.AnonymousGtid:
                return ControlEventDecoder.DecodeGtid(header, body);
            case BinlogEventType.GtidTagged:
                return ControlEventDecoder.DecodeTaggedGtid(header, body);
            case BinlogEventType.PreviousGtids:
                return new PreviousGtidsEvent(header, MySqlGtidSet.Decode(body));
            case BinlogEventType.MariaDbGtid:
            {
                var r = new PacketReader(body);
                var seq = r.ReadUInt64();
                var domain = r.ReadUInt32();
                var flags = r.ReadByte();
                ulong? commitId = (flags & 2) != 0 && r.Remaining >= 8 ? r.ReadUInt64() : null;
                return new MariaDbGtidEvent(header, seq, domain, flags, commitId);
            }
            case BinlogEventType.MariaDbGtidList:
            {
                var r = new PacketReader(body);
                var word = r.ReadUInt32();
                var count = word & 0x0FFFFFFF;
                if (count > r.Remaining / 16) throw new BinlogFormatException($"GTID list claims {count} entries in {r.Remaining} bytes");
                var list = new MariaDbGtid[count];
                for (var i = 0; i < count; i++)
                {
                    var domain = r.ReadUInt32();
                    var server = r.ReadUInt32();
                    list[i] = new MariaDbGtid(domain, server, r.ReadUInt64());
                }
                return new MariaDbGtidListEvent(header, list, word >> 28);
            }
            case BinlogEventType.RowsQuery:
            {
                var r = new PacketReader(body);
                if (r.Remaining > 0) r.Skip(1);
                return new RowsQueryEvent(header, r.ReadRestString());
            }
            case BinlogEventType.MariaDbAnnotateRows:
                return new RowsQueryEvent(header, new PacketReader(body).ReadRestString());
            case BinlogEventType.Heartbeat:
                return new HeartbeatEvent(header, new PacketReader(body).ReadRestString());
            case BinlogEventType.HeartbeatV2:
                return ControlEventDecoder.DecodeHeartbeatV2(header, body);
            case BinlogEventType.Stop:
                return new StopEvent(header);
            case BinlogEventType.Incident:
            {
                var r = new PacketReader(body);
                var type = r.ReadUInt16();
                var msg = r.Remaining > 0 ? r.ReadString(Math.Min((int)r.ReadByte(), r.Remaining)) : "";
                return new IncidentEvent(header, type, msg);
            }
            case BinlogEventType.TransactionPayload:
                return DecodeTransactionPayload(header, body);
            // MariaDB's log_bin_compress=ON: the same events with their query text or row images zlib-compressed.
            case BinlogEventType.MariaDbWriteRowsCompressed:
            case BinlogEventType.MariaDbWriteRowsCompressedV1:
                return DecodeRows(header, body, RowChangeKind.Insert);
            case BinlogEventType.MariaDbUpdateRowsCompressed:
            case BinlogEventType.MariaDbUpdateRowsCompressedV1:
                return DecodeRows(header, body, RowChangeKind.Update);
            case BinlogEventType.MariaDbDeleteRowsCompressed:
            case BinlogEventType.MariaDbDeleteRowsCompressedV1:
                return DecodeRows(header, body, RowChangeKind.Delete);
            case BinlogEventType.MariaDbQueryCompressed:
                return DecodeQuery(header, body);
            default:
                _ = f;
                return new UnknownEvent(header);
        }
    }

    private int PostHeader(BinlogEventType type, int fallback) => _format?.PostHeaderLength(type, fallback) ?? fallback;

    private void Verify(BinlogEventHeader header, ReadOnlySpan<byte> data)
    {
        var expected = BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]);
        _crc.Reset();
        if (header.EventType == BinlogEventType.FormatDescription && (header.Flags & 1) != 0)
        {
            // The server sets LOG_EVENT_BINLOG_IN_USE_F in a file's format description after checksumming it.
            _crc.Append(data[..17]);
            _crc.Append([(byte)(data[17] & 0xFE)]);
            _crc.Append(data[18..^4]);
        }
        else _crc.Append(data[..^4]);
        var actual = _crc.GetCurrentHashAsUInt32();
        if (expected != actual)
            throw new BinlogFormatException(
                $"{header.EventType} event at position {header.Position}: CRC32 checksum mismatch (stored 0x{expected:X8}, computed 0x{actual:X8}); the binlog is corrupt or was damaged in transit");
    }

    private FormatDescriptionEvent DecodeFormatDescription(BinlogEventHeader header, ReadOnlySpan<byte> data)
    {
        var r = new PacketReader(data[BinlogEventHeader.Size..]);
        var version = r.ReadUInt16();
        var serverVersion = System.Text.Encoding.ASCII.GetString(r.ReadBytes(50)).TrimEnd('\0');
        var created = r.ReadUInt32();
        var headerLength = r.ReadByte();
        var checksum = ChecksumAlgorithm.Off;
        var postHeaderEnd = data.Length;
        if (SupportsChecksum(serverVersion))
        {
            if (data.Length < BinlogEventHeader.Size + 57 + 5) throw new BinlogFormatException("format description event too short");
            checksum = (ChecksumAlgorithm)data[^5];
            postHeaderEnd = data.Length - 5;
            if (checksum == ChecksumAlgorithm.Crc32 && VerifyChecksums) Verify(header, data);
            if (checksum is not (ChecksumAlgorithm.Off or ChecksumAlgorithm.Crc32 or ChecksumAlgorithm.Undefined))
                throw new BinlogFormatException($"unknown binlog checksum algorithm {(int)checksum}");
            if (checksum == ChecksumAlgorithm.Undefined) checksum = ChecksumAlgorithm.Off;
        }
        // Checked after the checksum, so that a corrupt event is reported as such.
        if (headerLength != BinlogEventHeader.Size)
            throw new BinlogFormatException($"unsupported binlog header length {headerLength} (binlog version {version})");
        var start = BinlogEventHeader.Size + 57;
        var postHeaders = data[start..Math.Max(start, postHeaderEnd)].ToArray();
        var fde = new FormatDescriptionEvent(header, version, serverVersion, created, headerLength, postHeaders, checksum);
        _format = fde;
        Checksum = checksum;
        return fde;
    }

    /// <summary>MySQL 5.6.1+ and every MariaDB write a checksum-algorithm byte into the format description.</summary>
    internal static bool SupportsChecksum(string serverVersion)
    {
        Span<int> parts = stackalloc int[3];
        var n = 0;
        var value = 0;
        var digits = false;
        foreach (var ch in serverVersion)
        {
            if (char.IsAsciiDigit(ch)) { value = value * 10 + (ch - '0'); digits = true; continue; }
            if (!digits) break;
            parts[n++] = value;
            value = 0;
            digits = false;
            if (ch != '.' || n == 3) break;
        }
        if (digits && n < 3) parts[n++] = value;
        var v = parts[0] * 10000 + parts[1] * 100 + parts[2];
        return v >= 50601 || serverVersion.Contains("MariaDB", StringComparison.OrdinalIgnoreCase) && v >= 50300;
    }

    private QueryEvent DecodeQuery(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var r = new PacketReader(body);
        var threadId = r.ReadUInt32();
        var execTime = r.ReadUInt32();
        var dbLength = r.ReadByte();
        var errorCode = r.ReadUInt16();
        var postHeader = PostHeader(header.EventType, 13);
        var statusLength = postHeader >= 13 ? r.ReadUInt16() : 0;
        if (postHeader > 13) r.Skip(postHeader - 13);
        r.Skip(statusLength);
        var db = r.ReadString(dbLength);
        r.Skip(1);
        var query = header.EventType == BinlogEventType.MariaDbQueryCompressed
            ? System.Text.Encoding.UTF8.GetString(MariaDbCompression.Uncompress(r.ReadRemaining()))
            : r.ReadRestString();
        return new QueryEvent(header, threadId, execTime, errorCode, db, query);
    }

    private TransactionPayloadEvent DecodeTransactionPayload(BinlogEventHeader header, ReadOnlySpan<byte> body)
    {
        var r = new PacketReader(body);
        long payloadSize = -1, uncompressedSize = -1;
        var compression = 0;
        while (r.Remaining > 0)
        {
            var type = r.ReadLengthEncoded();
            if (type == 0) break; // end of header
            var length = r.ReadLengthEncodedInt32();
            var value = new PacketReader(r.ReadBytes(length));
            switch (type)
            {
                case 1: payloadSize = (long)value.ReadLengthEncoded(); break;
                case 2: compression = (int)value.ReadLengthEncoded(); break;
                case 3: uncompressedSize = (long)value.ReadLengthEncoded(); break;
            }
        }
        var payload = r.ReadRemaining();
        if (payloadSize >= 0 && payloadSize <= payload.Length) payload = payload[..(int)payloadSize];
        // zstd cannot expand data more than ~32768 times (an RLE block of 128 KiB in 4 bytes): a larger claim is a
        // corrupt size field, refused before it becomes a giant allocation.
        if (compression == 0 && uncompressedSize > 64L * 1024 * Math.Max(payload.Length, 16))
            throw new BinlogFormatException($"transaction payload of {payload.Length} compressed bytes claims {uncompressedSize} uncompressed bytes");
        byte[] raw;
        try
        {
            raw = compression switch
            {
                0 => Zstd.Decompress(payload, uncompressedSize),
                255 => payload.ToArray(),
                _ => throw new BinlogFormatException($"transaction payload compressed with unknown algorithm {compression}"),
            };
        }
        catch (InvalidDataException e)
        {
            throw new BinlogFormatException($"transaction payload does not decompress: {e.Message}", e);
        }
        // The inner events carry no checksum of their own.
        var saved = Checksum;
        Checksum = ChecksumAlgorithm.Off;
        var events = new List<BinlogEvent>();
        try
        {
            var pos = 0;
            while (pos < raw.Length)
            {
                if (raw.Length - pos < BinlogEventHeader.Size) throw new BinlogFormatException("truncated event inside transaction payload");
                var inner = BinlogEventHeader.Read(raw.AsSpan(pos));
                if (inner.EventLength < BinlogEventHeader.Size || inner.EventLength > raw.Length - pos)
                    throw new BinlogFormatException($"event inside transaction payload claims {inner.EventLength} bytes");
                events.Add(Decode(raw.AsSpan(pos, (int)inner.EventLength)));
                pos += (int)inner.EventLength;
            }
        }
        finally
        {
            Checksum = saved;
        }
        return new TransactionPayloadEvent(header, compression, uncompressedSize, events);
    }
}
