using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using PluginHost.Sdk;

namespace PluginHost.Plugins.UserFunctions;

/// <summary>
/// Helper functions for transform scripts (<c>.csx</c>), callable without qualification, e.g.
/// <c>e.After["email"] = tMaskEmail((string?)e.After["email"]);</c>.
/// <para>Conventions shared by every helper: a <c>null</c> input gives <c>null</c> (SQL NULL stays NULL), and
/// "characters" are Unicode code points — the unit MySQL/MariaDB count <c>VARCHAR(n)</c> lengths in for utf8mb4 — so
/// a character outside the BMP (an emoji, written as two UTF-16 chars) is one character and is never cut in half.</para>
/// </summary>
[HelperFunctions]
public static class UserFunctions
{
    /// <summary>The character masked positions are replaced with.</summary>
    public const char MaskChar = '*';

    /// <summary>
    /// Obfuscates a string, keeping its length and its first and last characters:
    /// <list type="bullet">
    /// <item><c>null</c> → <c>null</c>; <c>""</c> → <c>""</c>;</item>
    /// <item>1 or 2 characters → all masked (<c>"A"</c> → <c>"*"</c>, <c>"Al"</c> → <c>"**"</c>): keeping both ends
    /// would reveal the whole value;</item>
    /// <item>3 or more → first and last kept, every character between them (spaces and punctuation too) replaced
    /// with <c>*</c>: <c>"Bob"</c> → <c>"B*b"</c>, <c>"John Smith"</c> → <c>"J********h"</c>.</item>
    /// </list>
    /// Length is counted in characters (code points): the result has as many characters as the input.
    /// </summary>
    public static string? tObfString(string? value)
    {
        if (value is null) return null;
        if (value.Length > 2 && !value.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
        {
            // Fast path (no surrogate pairs: one char per code point): one allocation, no intermediate list.
            return string.Create(value.Length, value, static (span, v) =>
            {
                span[0] = v[0];
                span[1..^1].Fill(MaskChar);
                span[^1] = v[^1];
            });
        }
        var runes = Runes(value);
        if (runes.Count == 0) return "";
        if (runes.Count <= 2) return new string(MaskChar, runes.Count);
        var sb = new StringBuilder(value.Length);
        sb.Append(runes[0].ToString());
        sb.Append(MaskChar, runes.Count - 2);
        sb.Append(runes[^1].ToString());
        return sb.ToString();
    }

    /// <summary>
    /// Hex SHA-256 (64 lower-case hex digits) of the UTF-8 bytes of <paramref name="salt"/> followed by the value:
    /// <c>tHash("ann@example.com", "s3cret")</c> = SHA-256("s3cretann@example.com"). A stable pseudonym: equal values
    /// with equal salts hash equally (joins still work), and without the salt the value cannot be looked up in a
    /// precomputed table.
    /// <para>Values: <c>null</c> → <c>null</c>; a string as is; <c>byte[]</c> (BINARY/BLOB) as its bytes after the
    /// salt's; <c>bool</c> as <c>true</c>/<c>false</c>; numbers, dates and other formattable values in the invariant
    /// culture (<c>12.5</c>, not <c>12,5</c>); anything else by <c>ToString()</c>. A null salt is the empty salt.</para>
    /// </summary>
    public static string? tHash(object? value, string? salt)
    {
        if (value is null) return null;
        var saltBytes = Encoding.UTF8.GetBytes(salt ?? "");
        byte[] valueBytes = value switch
        {
            byte[] b => b,
            ReadOnlyMemory<byte> m => m.ToArray(),
            string s => Encoding.UTF8.GetBytes(s),
            bool b => Encoding.UTF8.GetBytes(b ? "true" : "false"),
            IFormattable f => Encoding.UTF8.GetBytes(f.ToString(null, CultureInfo.InvariantCulture)),
            _ => Encoding.UTF8.GetBytes(value.ToString() ?? ""),
        };
        var data = new byte[saltBytes.Length + valueBytes.Length];
        saltBytes.CopyTo(data, 0);
        valueBytes.CopyTo(data, saltBytes.Length);
        return Convert.ToHexStringLower(SHA256.HashData(data));
    }

    /// <summary>
    /// Masks an e-mail address: the local part (before the last <c>@</c>) is obfuscated by <see cref="tObfString"/>,
    /// the domain is kept: <c>"john.smith@example.com"</c> → <c>"j********h@example.com"</c>,
    /// <c>"al@example.com"</c> → <c>"**@example.com"</c>. Without an <c>@</c> the whole value is obfuscated as by
    /// <see cref="tObfString"/>. <c>null</c> → <c>null</c>.
    /// </summary>
    public static string? tMaskEmail(string? email)
    {
        if (email is null) return null;
        var at = email.LastIndexOf('@');
        if (at < 0) return tObfString(email);
        return tObfString(email[..at]) + email[at..];
    }

    /// <summary>
    /// The first <paramref name="maxLength"/> characters (code points) of the value, or the value itself when it is
    /// not longer: <c>tTruncate("abcdef", 3)</c> = <c>"abc"</c>. <c>null</c> → <c>null</c>. A negative
    /// <paramref name="maxLength"/> throws <see cref="ArgumentOutOfRangeException"/>.
    /// </summary>
    public static string? tTruncate(string? value, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxLength);
        if (value is null) return null;
        if (value.Length <= maxLength) return value; // UTF-16 length ≥ character count
        var end = 0;
        var count = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            if (count == maxLength) break;
            end += rune.Utf16SequenceLength;
            count++;
        }
        return value[..end];
    }

    /// <summary>
    /// Only the ASCII digits 0–9 of the value, in order: <c>"+1 (555) 010-9999"</c> → <c>"15550109999"</c>;
    /// <c>"no digits"</c> → <c>""</c>; <c>null</c> → <c>null</c>.
    /// </summary>
    public static string? tDigits(string? value)
    {
        if (value is null) return null;
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
            if (c is >= '0' and <= '9') sb.Append(c);
        return sb.ToString();
    }

    /// <summary>
    /// <c>null</c> when the value is <c>null</c>, empty, or only white space (<c>""</c>, <c>"  "</c>, <c>"\t"</c>);
    /// otherwise the value unchanged (not trimmed).
    /// </summary>
    public static string? tNullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static List<Rune> Runes(string value)
    {
        var list = new List<Rune>(value.Length);
        foreach (var rune in value.EnumerateRunes()) list.Add(rune);
        return list;
    }
}
