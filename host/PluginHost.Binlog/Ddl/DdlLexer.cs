using System.Text;

namespace PluginHost.Binlog.Ddl;

/// <summary>
/// Splits a statement into <see cref="DdlToken"/>s the way the server reads it: comments dropped, the text of executable
/// comments (<c>/*!50100 …*/</c>, <c>/*M!100100 …*/</c>) kept, backquoted names and string literals unescaped.
/// </summary>
internal static class DdlLexer
{
    /// <summary>The tokens of <paramref name="sql"/>; null when a quote or comment is never closed.</summary>
    public static List<DdlToken>? Tokenize(string sql)
    {
        var tokens = new List<DdlToken>();
        var executable = 0; // executable comments open around the current text
        var i = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if (c == '#' || c == '-' && At(sql, i, "-- ") || c == '-' && At(sql, i, "--\t") || c == '-' && i + 2 == sql.Length && At(sql, i, "--"))
            {
                var end = sql.IndexOf('\n', i);
                i = end < 0 ? sql.Length : end + 1;
                continue;
            }
            if (c == '/' && At(sql, i, "/*"))
            {
                if (At(sql, i, "/*!") || At(sql, i, "/*M!"))
                {
                    i += sql[i + 2] == 'M' ? 4 : 3;
                    while (i < sql.Length && char.IsAsciiDigit(sql[i])) i++;
                    executable++;
                    continue;
                }
                var close = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (close < 0) return null;
                i = close + 2;
                continue;
            }
            if (c == '*' && executable > 0 && At(sql, i, "*/"))
            {
                executable--;
                i += 2;
                continue;
            }
            if (c == '`')
            {
                var text = Quoted(sql, ref i, '`', backslash: false);
                if (text is null) return null;
                tokens.Add(new DdlToken(DdlTokenKind.Quoted, text));
                continue;
            }
            if (c is '\'' or '"')
            {
                var text = Quoted(sql, ref i, c, backslash: true);
                if (text is null) return null;
                tokens.Add(new DdlToken(DdlTokenKind.String, text));
                continue;
            }
            if (IsWordChar(c))
            {
                var start = i;
                while (i < sql.Length && IsWordChar(sql[i])) i++;
                tokens.Add(new DdlToken(DdlTokenKind.Word, sql[start..i]));
                continue;
            }
            tokens.Add(new DdlToken(DdlTokenKind.Symbol, c.ToString()));
            i++;
        }
        return tokens;
    }

    private static bool At(string s, int i, string what) => string.CompareOrdinal(s, i, what, 0, what.Length) == 0;

    /// <summary>Letters, digits, <c>_</c>, <c>$</c> and anything beyond ASCII: the characters of an unquoted name.</summary>
    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '$' || c > 127 && !char.IsWhiteSpace(c);

    /// <summary>The text between <paramref name="quote"/>s starting at <paramref name="i"/>; a doubled quote stands for one.</summary>
    private static string? Quoted(string sql, ref int i, char quote, bool backslash)
    {
        var sb = new StringBuilder();
        i++;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (backslash && c == '\\' && i + 1 < sql.Length)
            {
                sb.Append(sql[i + 1] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', var x => x });
                i += 2;
                continue;
            }
            if (c == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    sb.Append(quote);
                    i += 2;
                    continue;
                }
                i++;
                return sb.ToString();
            }
            sb.Append(c);
            i++;
        }
        return null;
    }
}
