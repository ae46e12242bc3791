namespace PluginHost.Snapshots;

/// <summary>A snapshot cannot be read as asked: bad input (a table that does not exist, an invalid <c>where</c>) or a
/// table it cannot handle. The message names what is wrong; nothing was changed.</summary>
internal class SnapshotException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The table to snapshot does not exist (or the user cannot see it), or is a view.</summary>
internal sealed class SnapshotTableNotFoundException(string database, string table, string message)
    : SnapshotException(message)
{
    /// <summary>The database (schema) asked for.</summary>
    public string Database { get; } = database;

    /// <summary>The table asked for.</summary>
    public string Table { get; } = table;
}

/// <summary>The snapshot's <c>where</c> condition is refused (a <c>;</c>, a comment, unbalanced quotes or parentheses)
/// or the server rejects it.</summary>
internal sealed class SnapshotWhereException(string where, string message, Exception? inner = null)
    : SnapshotException(message, inner)
{
    /// <summary>The condition as given.</summary>
    public string Where { get; } = where;
}
