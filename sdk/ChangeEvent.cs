namespace PluginHost.Sdk;

/// <summary>
/// One changed row, as transforms and sinks see it. Serialises (<see cref="ChangeEventJson"/>) to the event JSON:
/// <c>{"op","database","table","before","after","gtid","file","pos","ts", …Extra}</c>.
/// </summary>
public sealed class ChangeEvent
{
    /// <summary>insert, update or delete.</summary>
    public ChangeOperation Op { get; set; }

    /// <summary>Source database (schema) name.</summary>
    public string Database { get; set; } = "";

    /// <summary>Source table name.</summary>
    public string Table { get; set; } = "";

    /// <summary>The row before the change (update, delete); null for inserts.</summary>
    public Row? Before { get; set; }

    /// <summary>The row after the change (insert, update); null for deletes.</summary>
    public Row? After { get; set; }

    /// <summary>Column types and key of the source table, when known.</summary>
    public TableInfo? Schema { get; set; }

    /// <summary>GTID of the transaction (<c>0-1-42</c> or <c>uuid:42</c>), when the server uses GTIDs.</summary>
    public string? Gtid { get; set; }

    /// <summary>Binlog file of the change.</summary>
    public string? File { get; set; }

    /// <summary>Binlog offset of the rows event holding the change.</summary>
    public long Position { get; set; }

    /// <summary>When the change was written to the binlog (second precision).</summary>
    public DateTimeOffset Timestamp { get; set; }

    /// <summary>Identifies the source transaction (its GTID, or file:offset of its start).</summary>
    public string? TransactionId { get; set; }

    /// <summary>Zero-based index of this event within its transaction.</summary>
    public int IndexInTransaction { get; set; }

    /// <summary>Destination chosen by a transform (e.g. a Kafka topic); null lets the sink decide.</summary>
    public string? Destination { get; set; }

    /// <summary>The message key a transform chose (Kafka: the record key; a prensio rule chain sets <c>kafka.key</c> here); null: the sink's own.</summary>
    public string? Key { get; set; }

    /// <summary>Extra fields, written as top-level fields of the event JSON (the event's own field names are refused: <see cref="ExtraFields"/>).</summary>
    public ExtraFields Extra => _extra ??= new ExtraFields();

    /// <summary>True when <see cref="Extra"/> has fields (without allocating it).</summary>
    public bool HasExtra => _extra is { Count: > 0 };

    private ExtraFields? _extra;

    /// <summary>The row image that identifies the row: After for inserts and updates, Before for deletes.</summary>
    public Row? Current => After ?? Before;

    /// <summary>Primary key column → value (from <see cref="Current"/>); empty when the table has no known key.</summary>
    public IReadOnlyDictionary<string, object?> PrimaryKey
    {
        get
        {
            var key = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (Schema is { } s && Current is { } row)
                foreach (var name in s.PrimaryKey) key[name] = row[name];
            return key;
        }
    }

    /// <summary>A stable string for the row's identity (table + primary key, or the whole row when there is no key), for ordering lanes and partitioning.</summary>
    public string RowKey()
    {
        var sb = new System.Text.StringBuilder(Database).Append('.').Append(Table);
        if (Current is not { } row) return sb.ToString();
        if (Schema is { PrimaryKey.Count: > 0 } s)
            foreach (var name in s.PrimaryKey) sb.Append('\u001f').Append(ChangeEventJson.FormatScalar(row[name]));
        else
            foreach (var kv in row) sb.Append('\u001f').Append(ChangeEventJson.FormatScalar(kv.Value));
        return sb.ToString();
    }

    /// <summary>
    /// True for an update that changes the row's primary key (<c>UPDATE t SET id = 2 WHERE id = 1</c>): a key column's
    /// value differs between <see cref="Before"/> and <see cref="After"/> (binary values compared by content). False for
    /// other operations and for tables without a known key.
    /// </summary>
    public bool ChangesPrimaryKey()
    {
        if (Op != ChangeOperation.Update || Before is not { } before || After is not { } after || Schema is not { PrimaryKey.Count: > 0 } s)
            return false;
        foreach (var name in s.PrimaryKey)
        {
            var a = before[name];
            var b = after[name];
            if (a is byte[] x && b is byte[] y ? !x.AsSpan().SequenceEqual(y) : !Equals(a, b)) return true;
        }
        return false;
    }

    /// <summary>
    /// Makes this event a copy of <paramref name="source"/> as <see cref="Clone"/> would (rows and Extra copied, values
    /// shared), reusing this event's own row and Extra storage: for code that keeps a snapshot of every event it hands on
    /// (the host keeps one per event for a dead letter), without an allocation per event.
    /// </summary>
    public void CopyFrom(ChangeEvent source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (ReferenceEquals(source, this)) return;
        Op = source.Op;
        Database = source.Database;
        Table = source.Table;
        Schema = source.Schema;
        Gtid = source.Gtid;
        File = source.File;
        Position = source.Position;
        Timestamp = source.Timestamp;
        TransactionId = source.TransactionId;
        IndexInTransaction = source.IndexInTransaction;
        Destination = source.Destination;
        Key = source.Key;
        Before = CopyRow(source.Before, ref _beforeStore);
        After = CopyRow(source.After, ref _afterStore);
        if (source._extra is { Count: > 0 } extra) (_extra ??= new ExtraFields()).CopyFrom(extra);
        else _extra?.Clear();
    }

    // The rows CopyFrom fills (kept when an image is null for a while, reused when it returns).
    private Row? _beforeStore, _afterStore;

    private static Row? CopyRow(Row? source, ref Row? store)
    {
        if (source is null) return null;
        store ??= new Row(source.Count);
        store.CopyFrom(source);
        return store;
    }

    /// <summary>A deep-enough copy for fan-out: rows and Extra are copied, values shared.</summary>
    public ChangeEvent Clone()
    {
        var c = (ChangeEvent)MemberwiseClone();
        c.Before = Before?.Clone();
        c.After = After?.Clone();
        c._extra = _extra is null ? null : new ExtraFields(_extra);
        c._beforeStore = c._afterStore = null; // CopyFrom's storage is this event's own
        return c;
    }

    public override string ToString() => ChangeEventJson.Serialize(this);
}
