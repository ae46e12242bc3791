namespace PluginHost.Binlog.Ddl;

/// <summary>What a <see cref="DdlToken"/> is.</summary>
internal enum DdlTokenKind
{
    /// <summary>An unquoted word: keyword, identifier or number.</summary>
    Word,

    /// <summary>A backquoted identifier (doubled backquotes undone).</summary>
    Quoted,

    /// <summary>A string literal in single or double quotes (escapes undone).</summary>
    String,

    /// <summary>One punctuation character.</summary>
    Symbol,
}

/// <summary>One token of a DDL statement.</summary>
internal readonly record struct DdlToken(DdlTokenKind Kind, string Text)
{
    /// <summary>True for the unquoted word <paramref name="word"/> (case-insensitive).</summary>
    public bool Is(string word) => Kind == DdlTokenKind.Word && Text.Equals(word, StringComparison.OrdinalIgnoreCase);

    /// <summary>True for the symbol <paramref name="symbol"/>.</summary>
    public bool IsSymbol(char symbol) => Kind == DdlTokenKind.Symbol && Text.Length == 1 && Text[0] == symbol;

    /// <summary>True for a token that can name a table or column.</summary>
    public bool IsIdentifier => Kind is DdlTokenKind.Word or DdlTokenKind.Quoted;

    public override string ToString() => Kind == DdlTokenKind.Quoted ? $"`{Text}`" : Text;
}
