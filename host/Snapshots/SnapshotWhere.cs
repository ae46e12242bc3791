namespace PluginHost.Snapshots;

/// <summary>
/// The cheap checks a user's <c>where</c> condition passes before the server sees it: it must stay one condition inside
/// the parentheses it is put in. Refused: <c>;</c>, comments (<c>--</c>, <c>#</c>, <c>/*</c>), unbalanced quotes or
/// parentheses, more than <see cref="MaxLength"/> characters. The server then checks it (<c>SELECT 1 … LIMIT 0</c>).
/// </summary>
internal static class SnapshotWhere
{
    public const int MaxLength = 4096;

    /// <summary>Throws <see cref="SnapshotWhereException"/> naming <c>where</c> when the condition is refused.</summary>
    public static void Check(string where)
    {
        if (string.IsNullOrWhiteSpace(where)) throw Refused(where, "is empty");
        if (where.Length > MaxLength) throw Refused(where, $"is longer than {MaxLength} characters");
        var depth = 0;
        char quote = '\0';
        for (var i = 0; i < where.Length; i++)
        {
            var ch = where[i];
            if (quote != '\0')
            {
                if (ch == '\\' && quote != '`') i++;
                else if (ch == quote)
                {
                    if (i + 1 < where.Length && where[i + 1] == quote) i++;
                    else quote = '\0';
                }
                continue;
            }
            switch (ch)
            {
                case '\'' or '"' or '`': quote = ch; break;
                case '(': depth++; break;
                case ')':
                    if (--depth < 0) throw Refused(where, $"closes a parenthesis it did not open (at character {i + 1})");
                    break;
                case ';': throw Refused(where, $"contains ';' (at character {i + 1}): one condition only");
                case '#': throw Refused(where, $"contains a comment ('#' at character {i + 1})");
                case '-' when i + 1 < where.Length && where[i + 1] == '-': throw Refused(where, $"contains a comment ('--' at character {i + 1})");
                case '/' when i + 1 < where.Length && where[i + 1] == '*': throw Refused(where, $"contains a comment ('/*' at character {i + 1})");
                case '\0': throw Refused(where, "contains a NUL character");
            }
        }
        if (quote != '\0') throw Refused(where, $"has an unterminated {quote} quote");
        if (depth != 0) throw Refused(where, $"leaves {depth} parenthesis(es) open");
    }

    private static SnapshotWhereException Refused(string where, string why) =>
        new(where, $"Snapshot 'where' {why}: {Shorten(where)}");

    internal static string Shorten(string where) => where.Length <= 200 ? where : where[..200] + "…";
}
