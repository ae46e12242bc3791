namespace PluginHost.Binlog.Json;

/// <summary>
/// MySQL binary JSON (or a JSON diff) that cannot be decoded: truncated, an offset or length pointing
/// past its container, an unknown type code, nesting deeper than <see cref="MySqlJsonBinary.MaxDepth"/>,
/// invalid UTF-8, or values that reference each other so that the text would explode in size.
/// </summary>
public sealed class MySqlJsonFormatException : FormatException
{
    /// <summary>Creates the exception for a problem found at <paramref name="offset"/> (or -1 when unknown).</summary>
    public MySqlJsonFormatException(string message, int offset = -1)
        : base(offset >= 0 ? $"Malformed MySQL binary JSON at byte {offset}: {message}" : $"Malformed MySQL binary JSON: {message}")
    {
        Offset = offset;
    }

    /// <summary>Creates the exception wrapping another one.</summary>
    public MySqlJsonFormatException(string message, Exception inner)
        : base($"Malformed MySQL binary JSON: {message}", inner)
    {
        Offset = -1;
    }

    /// <summary>Byte offset in the decoded buffer where the problem was found, or -1 when unknown.</summary>
    public int Offset { get; }
}
