using System.Text;

namespace PluginHost.Binlog.Values;

/// <summary>A single-byte character set as a table of 256 characters (generated from the server, so exact for it).
/// Bytes the set leaves undefined decode as U+FFFD; characters outside it encode as '?'.</summary>
internal sealed class SingleByteEncoding : Encoding
{
    private readonly string _name;
    private readonly string _table;
    private readonly Dictionary<char, byte> _reverse = new();

    public SingleByteEncoding(string name, string table)
    {
        if (table.Length != 256) throw new ArgumentException($"the table of {name} has {table.Length} entries, not 256", nameof(table));
        _name = name;
        _table = table;
        for (var b = 255; b >= 0; b--)
            if (table[b] != '\uFFFD') _reverse[table[b]] = (byte)b;
    }

    public override string WebName => _name;

    public override string EncodingName => _name;

    public override bool IsSingleByte => true;

    public override int GetMaxByteCount(int charCount) => charCount;

    public override int GetMaxCharCount(int byteCount) => byteCount;

    public override int GetByteCount(char[] chars, int index, int count) => count;

    public override int GetByteCount(ReadOnlySpan<char> chars) => chars.Length;

    public override unsafe int GetByteCount(char* chars, int count) => count;

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) =>
        GetBytes(chars.AsSpan(charIndex, charCount), bytes.AsSpan(byteIndex));

    public override unsafe int GetBytes(char* chars, int charCount, byte* bytes, int byteCount) =>
        GetBytes(new ReadOnlySpan<char>(chars, charCount), new Span<byte>(bytes, byteCount));

    public override int GetBytes(ReadOnlySpan<char> chars, Span<byte> bytes)
    {
        if (bytes.Length < chars.Length) throw new ArgumentException("the byte buffer is too small", nameof(bytes));
        for (var i = 0; i < chars.Length; i++) bytes[i] = _reverse.TryGetValue(chars[i], out var b) ? b : (byte)'?';
        return chars.Length;
    }

    public override int GetCharCount(byte[] bytes, int index, int count) => count;

    public override int GetCharCount(ReadOnlySpan<byte> bytes) => bytes.Length;

    public override unsafe int GetCharCount(byte* bytes, int count) => count;

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex) =>
        GetChars(bytes.AsSpan(byteIndex, byteCount), chars.AsSpan(charIndex));

    public override unsafe int GetChars(byte* bytes, int byteCount, char* chars, int charCount) =>
        GetChars(new ReadOnlySpan<byte>(bytes, byteCount), new Span<char>(chars, charCount));

    public override int GetChars(ReadOnlySpan<byte> bytes, Span<char> chars)
    {
        if (chars.Length < bytes.Length) throw new ArgumentException("the char buffer is too small", nameof(chars));
        var table = _table.AsSpan();
        for (var i = 0; i < bytes.Length; i++) chars[i] = table[bytes[i]];
        return bytes.Length;
    }

    public override string GetString(byte[] bytes, int index, int count) =>
        string.Create(count, (this, bytes, index), static (span, s) => s.Item1.GetChars(s.bytes.AsSpan(s.index, span.Length), span));
}
