using System.Text.Json;

namespace PluginHost.Sdk;

/// <summary>The columns of a source table, shared by all events of that table.</summary>
public sealed class TableInfo
{
    private readonly Dictionary<string, (ColumnInfo Column, JsonEncodedText JsonName)> _byName;

    public TableInfo(string database, string table, IReadOnlyList<ColumnInfo> columns)
    {
        Database = database;
        Table = table;
        Columns = columns;
        _byName = new Dictionary<string, (ColumnInfo, JsonEncodedText)>(columns.Count, StringComparer.Ordinal);
        foreach (var c in columns) _byName.TryAdd(c.Name, (c, JsonEncodedText.Encode(c.Name, ChangeEventJson.WriterOptions.Encoder)));
        PrimaryKey = columns.Where(c => c.IsPrimaryKey).Select(c => c.Name).ToArray();
        if (_byName.Count == columns.Count) RowLayout = new RowLayout(columns.Select(c => c.Name));
        ColumnArray = columns.ToArray();
        JsonNames = columns.Select(c => _byName[c.Name].JsonName).ToArray();
    }

    /// <summary>The columns in order (the event JSON writer's fast path, for rows of <see cref="RowLayout"/>).</summary>
    internal ColumnInfo[] ColumnArray { get; }

    /// <summary>Each column's name encoded for JSON, in column order.</summary>
    internal JsonEncodedText[] JsonNames { get; }

    /// <summary>The column names as a layout rows with every column share (null when names repeat).</summary>
    public RowLayout? RowLayout { get; }

    public string Database { get; }
    public string Table { get; }
    public IReadOnlyList<ColumnInfo> Columns { get; }

    /// <summary>Names of the primary key columns (empty when the table has none or it is unknown).</summary>
    public IReadOnlyList<string> PrimaryKey { get; }

    /// <summary>The column with this name, or null.</summary>
    public ColumnInfo? Find(string name) => _byName.TryGetValue(name, out var c) ? c.Column : null;

    /// <summary>The column with this name and its name encoded for JSON once (writers skip escaping it per event).</summary>
    public bool TryFind(string name, out ColumnInfo column, out JsonEncodedText jsonName)
    {
        if (_byName.TryGetValue(name, out var c))
        {
            (column, jsonName) = c;
            return true;
        }
        column = null!;
        jsonName = default;
        return false;
    }
}
