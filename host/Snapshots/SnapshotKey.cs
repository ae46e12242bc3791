using System.Text.Json;

namespace PluginHost.Snapshots;

/// <summary>
/// The chunk key of one row as the server sent it: the raw text-protocol bytes of each key column, in key order. It is
/// what a resumed snapshot continues after; <see cref="ToString"/> and <see cref="Parse"/> carry it through a checkpoint.
/// Never pasted into SQL as is: <see cref="ChunkSql"/> re-quotes each value by its column's type.
/// </summary>
internal sealed class SnapshotKey : IEquatable<SnapshotKey>
{
    private readonly byte[][] _values;

    /// <summary>A key from the raw bytes of each key column.</summary>
    public SnapshotKey(IReadOnlyList<byte[]> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("A key has at least one column.", nameof(values));
        _values = values.Select(v => v ?? throw new ArgumentException("A key value cannot be null (key columns are NOT NULL).", nameof(values))).ToArray();
    }

    /// <summary>The raw value of each key column.</summary>
    public IReadOnlyList<byte[]> Values => _values;

    /// <summary>A JSON array of the values in hex, e.g. <c>["3432","616263"]</c>.</summary>
    public override string ToString() => "[\"" + string.Join("\",\"", _values.Select(Convert.ToHexString)) + "\"]"; // (hex needs no escaping)

    /// <summary>Reads <see cref="ToString"/>'s form.</summary>
    /// <exception cref="FormatException">The text is not a non-empty JSON array of hex strings.</exception>
    public static SnapshotKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            var hex = JsonSerializer.Deserialize<string[]>(text);
            if (hex is not { Length: > 0 } || hex.Any(h => h is null)) throw new FormatException($"A snapshot key must be a non-empty JSON array of hex strings, not {text}.");
            return new SnapshotKey(hex.Select(Convert.FromHexString).ToArray());
        }
        catch (JsonException e)
        {
            throw new FormatException($"A snapshot key must be a JSON array of hex strings, not {text}: {e.Message}", e);
        }
    }

    public bool Equals(SnapshotKey? other) =>
        other is not null && other._values.Length == _values.Length && _values.Zip(other._values).All(p => p.First.AsSpan().SequenceEqual(p.Second));

    public override bool Equals(object? obj) => Equals(obj as SnapshotKey);

    public override int GetHashCode() => ToString().GetHashCode(StringComparison.Ordinal);
}
