using PluginHost.Binlog.Values;

namespace PluginHost.Binlog.Events;

/// <summary>
/// The rows of one rows event in arrays reused from event to event (<see cref="Decoding.BinlogEventDecoder.TryDecodeRows"/>),
/// for a reader done with an event's rows before it reads the next (<c>pluginhost decode</c>). Text, binary and DECIMAL
/// values point into the event's bytes, which must stay unchanged until then.
/// </summary>
public sealed class RowBatch
{
    private ColumnValue[] _values = new ColumnValue[1024];
    private int _used;
    private int _width;

    /// <summary>The rows event's header.</summary>
    public BinlogEventHeader Header { get; private set; }

    public RowChangeKind Kind { get; private set; }

    /// <summary>The table map the rows refer to.</summary>
    public TableMapEvent Table { get; private set; } = null!;

    /// <summary>Rows decoded.</summary>
    public int Count { get; private set; }

    /// <summary>The image before the change of row <paramref name="row"/> (update, delete); empty for an insert.</summary>
    public ReadOnlySpan<ColumnValue> Before(int row) => Kind switch
    {
        RowChangeKind.Insert => default,
        RowChangeKind.Delete => _values.AsSpan(row * _width, _width),
        _ => _values.AsSpan(2 * row * _width, _width),
    };

    /// <summary>The image after the change of row <paramref name="row"/> (insert, update); empty for a delete.</summary>
    public ReadOnlySpan<ColumnValue> After(int row) => Kind switch
    {
        RowChangeKind.Delete => default,
        RowChangeKind.Insert => _values.AsSpan(row * _width, _width),
        _ => _values.AsSpan((2 * row + 1) * _width, _width),
    };

    internal void Start(BinlogEventHeader header, RowChangeKind kind, TableMapEvent table, int width)
    {
        Header = header;
        Kind = kind;
        Table = table;
        _width = width;
        _used = 0;
        Count = 0;
    }

    /// <summary>A cleared image (every column Missing) for the next row.</summary>
    internal Span<ColumnValue> NextImage()
    {
        if (_used + _width > _values.Length) Array.Resize(ref _values, Math.Max(_values.Length * 2, _used + _width));
        var image = _values.AsSpan(_used, _width);
        image.Clear();
        _used += _width;
        return image;
    }

    internal void EndRow() => Count++;
}
