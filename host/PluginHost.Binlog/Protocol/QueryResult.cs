namespace PluginHost.Binlog.Protocol;

/// <summary>
/// A text-protocol result set: column names and rows of nullable string values
/// (the server's text representation, decoded as UTF-8).
/// </summary>
public sealed class QueryResult
{
    private readonly string[] _columnNames;
    private readonly List<string?[]> _rows;

    internal QueryResult(string[] columnNames, List<string?[]> rows)
    {
        _columnNames = columnNames;
        _rows = rows;
    }

    /// <summary>A result without columns or rows (the statement returned only an OK packet).</summary>
    internal static QueryResult Empty => new([], []);

    /// <summary>Column names (labels) in order.</summary>
    public IReadOnlyList<string> ColumnNames => _columnNames;

    /// <summary>Rows in order; each row has one value per column, null for SQL NULL.</summary>
    public IReadOnlyList<IReadOnlyList<string?>> Rows => _rows;

    /// <summary>Returns the index of the column with the given name (case-insensitive).</summary>
    /// <param name="columnName">The column name or label.</param>
    /// <exception cref="KeyNotFoundException">No such column.</exception>
    public int GetOrdinal(string columnName)
    {
        for (int i = 0; i < _columnNames.Length; i++)
        {
            if (string.Equals(_columnNames[i], columnName, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        throw new KeyNotFoundException($"The result has no column '{columnName}' (columns: {string.Join(", ", _columnNames)}).");
    }

    /// <summary>Returns the value of a column in a row.</summary>
    /// <param name="rowIndex">Zero-based row index.</param>
    /// <param name="columnName">Column name (case-insensitive).</param>
    public string? GetValue(int rowIndex, string columnName) => _rows[rowIndex][GetOrdinal(columnName)];
}
