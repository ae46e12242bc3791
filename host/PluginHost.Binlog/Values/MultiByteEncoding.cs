using System.Text;

namespace PluginHost.Binlog.Values;

/// <summary>
/// A CJK character set: a .NET code page, corrected where the server decodes a sequence otherwise (generated
/// overrides), and for EUC-JP the JIS X 0212 plane no code page has. Decoding cuts the bytes into sequences by the
/// set's rules; runs without an override go to the code page in one call. Encoding uses the code page and the overrides.
/// </summary>
internal sealed class MultiByteEncoding : Encoding
{
    private readonly string _name;
    private readonly Encoding _codePage;
    private readonly SequenceKind _kind;
    private readonly Dictionary<int, char> _overrides = new();
    private readonly Dictionary<char, int> _reverse = new();
    private readonly string? _jisx0212;

    /// <param name="overrides">Runs of (code, first char, length): code+i decodes to first+i.</param>
    public MultiByteEncoding(string name, Encoding codePage, SequenceKind kind, int[] overrides, string? jisx0212)
    {
        _name = name;
        _codePage = codePage;
        _kind = kind;
        _jisx0212 = jisx0212;
        for (var r = 0; r + 2 < overrides.Length; r += 3)
            for (var i = 0; i < overrides[r + 2]; i++)
            {
                var ch = (char)(overrides[r + 1] + i);
                _overrides[overrides[r] + i] = ch;
                if (!CodePageEncodes(ch)) _reverse.TryAdd(ch, overrides[r] + i);
            }
        if (jisx0212 != null)
            for (var cell = 0; cell < jisx0212.Length; cell++)
                if (!CodePageEncodes(jisx0212[cell])) _reverse.TryAdd(jisx0212[cell], 0x8FA1A1 + (cell / 94 << 8) + cell % 94);
    }

    /// <summary>True when the code page has the character (or it is U+FFFD, which no override should produce).</summary>
    private bool CodePageEncodes(char c)
    {
        if (c == '\uFFFD' || char.IsSurrogate(c)) return true;
        return _codePage.GetString(_codePage.GetBytes(new[] { c })) == c.ToString();
    }

    public override string WebName => _name;

    public override string EncodingName => _name;

    public override int GetMaxByteCount(int charCount) => Math.Max(_codePage.GetMaxByteCount(charCount), (charCount + 1) * 4);

    public override int GetMaxCharCount(int byteCount) => _codePage.GetMaxCharCount(byteCount);

    public override int GetCharCount(byte[] bytes, int index, int count) => Decode(bytes.AsSpan(index, count), default, countOnly: true);

    public override int GetCharCount(ReadOnlySpan<byte> bytes) => Decode(bytes, default, countOnly: true);

    public override unsafe int GetCharCount(byte* bytes, int count) => Decode(new ReadOnlySpan<byte>(bytes, count), default, countOnly: true);

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex) =>
        Decode(bytes.AsSpan(byteIndex, byteCount), chars.AsSpan(charIndex), countOnly: false);

    public override int GetChars(ReadOnlySpan<byte> bytes, Span<char> chars) => Decode(bytes, chars, countOnly: false);

    public override unsafe int GetChars(byte* bytes, int byteCount, char* chars, int charCount) =>
        Decode(new ReadOnlySpan<byte>(bytes, byteCount), new Span<char>(chars, charCount), countOnly: false);

    public override int GetByteCount(char[] chars, int index, int count) => Encode(chars.AsSpan(index, count), default, countOnly: true);

    public override int GetByteCount(ReadOnlySpan<char> chars) => Encode(chars, default, countOnly: true);

    public override unsafe int GetByteCount(char* chars, int count) => Encode(new ReadOnlySpan<char>(chars, count), default, countOnly: true);

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) =>
        Encode(chars.AsSpan(charIndex, charCount), bytes.AsSpan(byteIndex), countOnly: false);

    public override int GetBytes(ReadOnlySpan<char> chars, Span<byte> bytes) => Encode(chars, bytes, countOnly: false);

    public override unsafe int GetBytes(char* chars, int charCount, byte* bytes, int byteCount) =>
        Encode(new ReadOnlySpan<char>(chars, charCount), new Span<byte>(bytes, byteCount), countOnly: false);

    private int Decode(ReadOnlySpan<byte> bytes, Span<char> chars, bool countOnly)
    {
        int n = 0, start = 0, i = 0;
        while (i < bytes.Length)
        {
            var length = SequenceLength(bytes, i);
            if (Special(bytes.Slice(i, length)) is { } ch)
            {
                n += Flush(bytes[start..i], chars, n, countOnly);
                if (!countOnly) chars[n] = ch;
                n++;
                start = i + length;
            }
            i += length;
        }
        return n + Flush(bytes[start..], chars, n, countOnly);
    }

    private int Flush(ReadOnlySpan<byte> run, Span<char> chars, int at, bool countOnly) =>
        run.IsEmpty ? 0 : countOnly ? _codePage.GetCharCount(run) : _codePage.GetChars(run, chars[at..]);

    private char? Special(ReadOnlySpan<byte> sequence)
    {
        if (sequence[0] < 0x80) return null;
        var code = 0;
        foreach (var b in sequence) code = code << 8 | b;
        if (_overrides.TryGetValue(code, out var ch)) return ch;
        if (_kind == SequenceKind.EucJp && sequence.Length == 3)
        {
            // JIS X 0212: 0x8F, row, cell (each 0xA1-0xFE); anything else in that shape is not a character.
            int row = sequence[1] - 0xA1, cell = sequence[2] - 0xA1;
            return _jisx0212 != null && (uint)row < 94 && (uint)cell < 94 ? _jisx0212[row * 94 + cell] : '\uFFFD';
        }
        return null;
    }

    private int SequenceLength(ReadOnlySpan<byte> bytes, int i)
    {
        var b = bytes[i];
        var length = _kind switch
        {
            SequenceKind.ShiftJis => b is >= 0x81 and <= 0x9F or >= 0xE0 and <= 0xFC ? 2 : 1,
            SequenceKind.EucJp => b == 0x8F ? 3 : b is 0x8E or >= 0xA1 and <= 0xFE ? 2 : 1,
            SequenceKind.Gb18030 => b is >= 0x81 and <= 0xFE ? (i + 1 < bytes.Length && bytes[i + 1] is >= 0x30 and <= 0x39 ? 4 : 2) : 1,
            _ => b is >= 0x81 and <= 0xFE ? 2 : 1,
        };
        return Math.Min(length, bytes.Length - i);
    }

    private int Encode(ReadOnlySpan<char> chars, Span<byte> bytes, bool countOnly)
    {
        int n = 0, start = 0;
        for (var i = 0; i < chars.Length; i++)
        {
            if (!_reverse.TryGetValue(chars[i], out var code)) continue;
            n += countOnly ? _codePage.GetByteCount(chars[start..i]) : _codePage.GetBytes(chars[start..i], bytes[n..]);
            var length = code > 0xFFFF ? 3 : code > 0xFF ? 2 : 1;
            for (var k = length - 1; k >= 0; k--)
            {
                if (!countOnly) bytes[n] = (byte)(code >> (8 * k));
                n++;
            }
            start = i + 1;
        }
        return n + (countOnly ? _codePage.GetByteCount(chars[start..]) : _codePage.GetBytes(chars[start..], bytes[n..]));
    }
}
